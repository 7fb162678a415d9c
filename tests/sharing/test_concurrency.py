"""Concurrent decisions on one request, each on its own database connection (thread): exactly
one wins, the other gets InvalidTransition, and grants, permissions and history agree."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import close_old_connections, connection

from apps.catalog.models import FieldGroupObjectPermission
from apps.sharing.models import DataRequest, Grant, RequestTransition
from apps.sharing.services import (
    InvalidTransition,
    grant_revoke,
    grants_expire_due,
    request_approve,
    request_withdraw,
)
from apps.sharing.submission import PendingRequestExists
from tests.sharing.conftest import submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("flushable")]


def race(*calls) -> list:
    """Runs the calls at the same moment in threads; returns each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index: int, call) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we check
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    close_old_connections()
    return outcomes


def _perms(department) -> int:
    return FieldGroupObjectPermission.objects.filter(group=department.group).count()


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_approve_and_withdraw_leave_one_consistent_outcome(sw, attempt):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"])
    outcomes = race(
        lambda: request_approve(request=request, by=sw.provider_officer),
        lambda: request_withdraw(request=request, by=sw.consumer_officer, reason="撤回"),
    )
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], InvalidTransition), outcomes
    request.refresh_from_db()
    history = list(request.transitions.values_list("to_status", flat=True))
    if request.status == "approved":
        assert Grant.objects.filter(request=request, status="active").count() == 1
        assert _perms(sw.consumer) == 2
    else:
        assert request.status == "withdrawn"
        assert not Grant.objects.filter(request=request).exists()
        assert _perms(sw.consumer) == 0
    assert history == ["submitted", request.status]


def test_two_concurrent_approvals_create_one_grant(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    outcomes = race(
        lambda: request_approve(request=request, by=sw.provider_officer),
        lambda: request_approve(request=request, by=sw.provider_officer, fields=["mobile"]),
    )
    assert sum(isinstance(o, Grant) for o in outcomes) == 1, outcomes
    assert Grant.objects.filter(request=request).count() == 1
    assert RequestTransition.objects.filter(request=request, to_status="approved").count() == 1


def test_concurrent_revoke_and_expiry_end_the_grant_once(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    grant = request_approve(request=request, by=sw.provider_officer)
    past = grant.valid_from - dt.timedelta(days=2)
    Grant.objects.filter(pk=grant.pk).update(
        valid_from=past, valid_until=past + dt.timedelta(days=1)
    )
    outcomes = race(
        lambda: grant_revoke(grant=grant, by=sw.provider_officer, reason="违规"),
        lambda: grants_expire_due(),
    )
    grant.refresh_from_db()
    request = DataRequest.objects.get(pk=request.pk)
    assert grant.status in ("revoked", "expired"), outcomes
    assert request.status == grant.status
    assert _perms(sw.consumer) == 0
    ending = RequestTransition.objects.filter(request=request, to_status__in=["revoked", "expired"])
    assert ending.count() == 1
    if grant.status == "expired":
        assert isinstance(outcomes[0], InvalidTransition)
    else:
        assert outcomes[1] == 0


@pytest.mark.parametrize("attempt", range(3))
def test_two_identical_submissions_at_once_make_one_pending_request(sw, attempt):
    outcomes = race(
        lambda: submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        lambda: submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
    )
    [created] = [o for o in outcomes if isinstance(o, DataRequest)]
    [refused] = [o for o in outcomes if not isinstance(o, DataRequest)]
    assert isinstance(refused, PendingRequestExists), outcomes
    assert refused.pending_id == created.pk
    assert list(DataRequest.objects.values_list("pk", flat=True)) == [created.pk]
