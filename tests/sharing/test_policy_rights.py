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
def pending(sw):
    return submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])


@pytest.fixture
def grant(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name"])
    return request_approve(request=request, by=sw.provider_officer)


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
