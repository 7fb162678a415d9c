"""Reminder, overdue/escalation and expiry tasks, run by a real Celery worker."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core import mail

from apps.common import clock
from apps.sharing.models import DataRequest, Grant, Notification
from apps.sharing.selectors import working_days_add
from apps.sharing.services import request_approve
from apps.sharing.tasks import grants_expire_due, requests_mark_overdue, requests_remind_due
from tests.factories import UserFactory
from tests.sharing.conftest import submit

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("flushable")]


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


def test_reminder_goes_once_to_provider_officers_of_requests_due_soon(sw, celery_worker_live):
    soon = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    later = submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"])
    DataRequest.objects.filter(pk=soon.pk).update(
        due_by=working_days_add(start=clock.today(), days=1)
    )
    Notification.objects.all().delete()

    requests_remind_due.delay()
    wait_for(lambda: DataRequest.objects.get(pk=soon.pk).reminded_at is not None)
    assert DataRequest.objects.get(pk=later.pk).reminded_at is None
    [note] = Notification.objects.filter(recipient=sw.provider_officer)
    assert f"#{soon.pk}" in note.subject

    requests_remind_due.delay()
    requests_mark_overdue.delay()  # a marker: the solo worker runs tasks in order
    time.sleep(1.5)
    assert Notification.objects.filter(recipient=sw.provider_officer).count() == 1


def test_overdue_requests_are_marked_and_escalated_to_platform_admins(sw, celery_worker_live):
    admin = UserFactory(username="platform-admin", is_superuser=True, is_staff=True)
    late = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    on_time = submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"])
    DataRequest.objects.filter(pk=late.pk).update(due_by=clock.today() - dt.timedelta(days=1))
    mail.outbox.clear()

    requests_mark_overdue.delay()
    wait_for(lambda: DataRequest.objects.get(pk=late.pk).overdue)
    late.refresh_from_db()
    assert late.escalated_at is not None
    assert not DataRequest.objects.get(pk=on_time.pk).overdue
    assert Notification.objects.filter(recipient=admin, subject__contains="Overdue").count() == 1
    from apps.audit.models import AuditEvent

    event = AuditEvent.objects.get(
        action="request.escalate", body__contains=f'"target":"request:{late.pk}"'
    )
    assert (event.provider_id, event.consumer_id, event.dataset_id) == (
        sw.provider.pk,
        sw.consumer.pk,
        sw.dataset.pk,
    )
    assert event.fields == {"mobile": "mobile"} and event.user_id is None


def test_expiry_task_ends_grants_past_their_end(sw, celery_worker_live):
    from apps.catalog.models import FieldGroupObjectPermission

    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        by=sw.provider_officer,
    )
    live = request_approve(
        request=submit(sw.dataset, sw.outsider, sw.outsider_officer, ["name"]),
        by=sw.provider_officer,
    )
    past = grant.valid_from - dt.timedelta(days=2)
    Grant.objects.filter(pk=grant.pk).update(valid_from=past, valid_until=past + dt.timedelta(1))

    grants_expire_due.delay()
    wait_for(lambda: Grant.objects.get(pk=grant.pk).status == "expired")
    assert DataRequest.objects.get(pk=grant.request_id).status == "expired"
    assert not FieldGroupObjectPermission.objects.filter(group=sw.consumer.group).exists()
    assert Grant.objects.get(pk=live.pk).status == "active"
    from apps.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="grant.expire")
    assert (event.target, event.provider_id, event.consumer_id, event.dataset_id) == (
        f"grant:{grant.pk}",
        sw.provider.pk,
        sw.consumer.pk,
        sw.dataset.pk,
    )
    assert event.fields == {"mobile": "mobile"} and event.user_id is None
