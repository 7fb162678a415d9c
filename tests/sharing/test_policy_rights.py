"""Who may take which decision on a request or a grant (apps.sharing.policy's decision rights),
for every kind of user of the test world: the table the admin and the services both follow."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from apps.sharing import policy
from apps.sharing.selectors import grants_visible_to, requests_visible_to
from apps.sharing.services import grant_revoke, request_approve
from tests.factories import UserFactory
from tests.sharing.conftest import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_monday")]

# user -> (decisions on a pending request of WJ to GA, decisions on WJ's active grant from GA)
EXPECTED = {
    "provider_officer": ({"approve", "reject"}, {"revoke"}),
    "consumer_officer": ({"withdraw"}, set()),
    "outsider_officer": (set(), set()),
    "provider_auditor": (set(), set()),
    "platform_auditor": (set(), set()),
    "superuser": ({"approve", "reject", "withdraw"}, {"revoke"}),
}


def _user(sw, who: str):
    if who == "superuser":
        return UserFactory(username="root", is_superuser=True, is_staff=True)
    return getattr(sw, who)


@pytest.fixture
def grant(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name"])
    return request_approve(request=request, by=sw.provider_officer)


@pytest.fixture
def pending(sw, grant):
    # After the grant: a department has one request per dataset pending at a time.
    return submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_user_is_offered_exactly_the_decisions_of_its_role(sw, pending, grant, who):
    user = _user(sw, who)
    on_request, on_grant = EXPECTED[who]
    assert policy.request_actions(user=user, request=pending) == on_request
    assert policy.grant_actions(user=user, grant=grant) == on_grant
    # The bulk withdrawal is offered to every officer: each is a requester of some requests.
    assert policy.may_withdraw_requests(user=user) == (
        who.endswith("officer") or who == "superuser"
    )


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_refusals_match_what_is_offered(sw, pending, grant, who):
    user = _user(sw, who)
    on_request, on_grant = EXPECTED[who]
    checks = [
        ("approve", lambda: policy.require_may_decide_request(user=user, request=pending)),
        ("withdraw", lambda: policy.require_may_withdraw_request(user=user, request=pending)),
        ("revoke", lambda: policy.require_may_revoke_grant(user=user, grant=grant)),
    ]
    for action, check in checks:
        if action in on_request | on_grant:
            check()
        else:
            with pytest.raises(PermissionDenied, match="Only data officers of"):
                check()


def test_nothing_is_offered_once_a_request_is_decided_or_a_grant_ended(sw, grant):
    grant_revoke(grant=grant, by=sw.provider_officer, reason="合作结束")
    grant.refresh_from_db()
    grant.request.refresh_from_db()
    for who in EXPECTED:
        user = _user(sw, who)
        assert policy.request_actions(user=user, request=grant.request) == set()
        assert policy.grant_actions(user=user, grant=grant) == set()


def test_anonymous_users_may_take_no_decision(sw, pending, grant):
    from django.contrib.auth.models import AnonymousUser

    assert policy.request_actions(user=AnonymousUser(), request=pending) == set()
    assert policy.grant_actions(user=None, grant=grant) == set()
    assert not policy.may_withdraw_requests(user=AnonymousUser())


def test_deciding_for_every_row_of_a_list_costs_one_query_per_viewer(
    sw, pending, grant, django_assert_num_queries
):
    from django.contrib.auth import get_user_model

    submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"])
    user = get_user_model().objects.get(pk=sw.provider_officer.pk)  # as a new request loads it
    requests = list(requests_visible_to(user=user))
    grants = list(grants_visible_to(user=user))
    with django_assert_num_queries(1):  # the viewer's officer departments, then cached
        for request in requests:
            policy.request_actions(user=user, request=request)
        for item in grants:
            policy.grant_actions(user=user, grant=item)


# Agency applications (through the API): they submit and withdraw for their own department
# only, and never decide or revoke. agency -> (may submit for WJ, may withdraw WJ's request)
AGENCY_EXPECTED = {
    "consumer": (True, True),
    "consumer_inactive": (False, False),
    "provider": (False, False),
    "outsider": (False, False),
}


def _agency(sw, who: str):
    from apps.api.services import application_create

    department = getattr(sw, who.removesuffix("_inactive"))
    agency, _secret = application_create(department=department, name=f"app-{who}")
    if who.endswith("_inactive"):
        agency.is_active = False
    return agency


@pytest.mark.parametrize("who", sorted(AGENCY_EXPECTED))
def test_an_application_acts_only_for_its_own_department_and_never_decides(sw, pending, grant, who):
    agency = _agency(sw, who)
    may_submit, may_withdraw = AGENCY_EXPECTED[who]
    assert policy.may_submit_request(consumer=sw.consumer, agency=agency) is may_submit
    assert policy.may_withdraw_request(request=pending, agency=agency) is may_withdraw
    checks = [
        (
            may_submit,
            lambda: policy.require_may_submit_request(consumer=sw.consumer, agency=agency),
        ),
        (may_withdraw, lambda: policy.require_may_withdraw_request(request=pending, agency=agency)),
    ]
    for allowed, check in checks:
        if allowed:
            check()
        else:
            with pytest.raises(PermissionDenied, match="Only data officers or applications of"):
                check()
    # Deciding and revoking are officers' acts: an application has no user.
    assert not policy.may_decide_request(user=None, request=pending)
    assert not policy.may_revoke_grant(user=None, grant=grant)
    assert not policy.may_revoke_request(user=None, request=grant.request)


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_revoking_a_request_is_the_right_to_revoke_its_grant_asked_before_any_grant(
    sw, pending, grant, who
):
    user = _user(sw, who)
    allowed = "revoke" in EXPECTED[who][1]
    # Pending, the request has no grant yet: the right is the same, the state comes after.
    assert policy.may_revoke_request(user=user, request=pending) is allowed
    assert policy.may_revoke_request(user=user, request=grant.request) is allowed
