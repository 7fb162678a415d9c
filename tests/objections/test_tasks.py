"""The beat task, run by a real Celery worker, and its schedule entry."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.conf import settings

from apps.common import clock
from apps.objections.models import Objection
from apps.objections.tasks import objections_mark_overdue
from apps.sharing.models import Notification
from tests.objections.conftest import report

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


def test_the_worker_marks_overdue_objections_and_tells_the_provider(ow, celery_worker_live):
    late, on_time = report(ow), report(ow)
    Objection.objects.filter(pk=late.pk).update(due_by=clock.today() - dt.timedelta(days=1))
    Notification.objects.all().delete()

    objections_mark_overdue.delay()
    wait_for(lambda: Objection.objects.get(pk=late.pk).overdue)
    assert not Objection.objects.get(pk=on_time.pk).overdue
    note = Notification.objects.get(recipient=ow.provider_officer)
    assert f"#{late.pk}" in note.subject


def test_the_task_runs_every_morning_with_its_own_time_limits():
    entry = settings.CELERY_BEAT_SCHEDULE["objections-mark-overdue"]
    assert entry["task"] == objections_mark_overdue.name == "objections.objections_mark_overdue"
    assert objections_mark_overdue.soft_time_limit < objections_mark_overdue.time_limit
