"""Who may submit, see, answer and withdraw: one table over the base world's roles."""

from __future__ import annotations

import pytest

from apps.objections import policy
from apps.objections.services import objection_withdraw
from tests.factories import UserFactory
from tests.objections.conftest import report

pytestmark = pytest.mark.django_db

ROLES = ["provider_officer", "consumer_officer", "outsider_officer", "provider_auditor",
         "platform_auditor", "superuser"]  # fmt: skip
# role -> (may see, actions offered on an open objection reported by WJ on GA's data)
TABLE = {
    "provider_officer": (True, {"answer"}),
    "consumer_officer": (True, {"withdraw"}),
    "outsider_officer": (False, set()),
    "provider_auditor": (True, set()),
    "platform_auditor": (True, set()),
    "superuser": (True, set()),
}


def _user(ow, role: str):
    if role == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    return getattr(ow, role)


@pytest.mark.parametrize("role", ROLES)
def test_who_sees_and_acts_on_an_open_objection(ow, role):
    objection = report(ow)
    user = _user(ow, role)
    sees, actions = TABLE[role]
    assert policy.may_view_objection(objection=objection, user=user) is sees
    assert policy.objection_actions(objection=objection, user=user) == actions


def test_nobody_acts_on_a_closed_objection(ow):
    objection = objection_withdraw(objection=report(ow), by=ow.consumer_officer)
    for role in ROLES:
        assert policy.objection_actions(objection=objection, user=_user(ow, role)) == frozenset()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [("consumer_officer", True), ("provider_officer", False), ("provider_auditor", False),
     ("platform_auditor", False), ("superuser", False)],
)  # fmt: skip
def test_only_the_departments_officers_submit_for_it(ow, role, allowed):
    user = _user(ow, role)
    assert policy.may_submit_objection(consumer=ow.consumer, user=user) is allowed


def test_the_submission_form_is_for_officers_only(ow):
    assert policy.may_submit_objections(user=ow.outsider_officer)
    assert not policy.may_submit_objections(user=ow.provider_auditor)
    assert not policy.may_submit_objections(user=ow.platform_auditor)


def test_applications_act_for_their_department_while_active(ow):
    from apps.api.services import application_create

    objection = report(ow)
    provider_app, _s = application_create(department=ow.provider, name="ga", scopes="requests")
    consumer_app, _s = application_create(department=ow.consumer, name="wj", scopes="requests")
    assert policy.objection_actions(objection=objection, agency=provider_app) == {"answer"}
    assert policy.objection_actions(objection=objection, agency=consumer_app) == {"withdraw"}
    consumer_app.is_active = False
    assert policy.objection_actions(objection=objection, agency=consumer_app) == frozenset()
