"""Marking overdue objections (the service the beat task runs): once, open ones only, with the
provider's officers and the platform administrators told."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from apps.objections.deadlines import objections_mark_overdue
from apps.objections.models import Objection
from apps.objections.services import objection_answer
from apps.sharing.models import Notification
from tests.factories import UserFactory
from tests.objections.conftest import MONDAY, report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday")]
TODAY = MONDAY.date()


def _due(objection, day: dt.date) -> None:
    Objection.objects.filter(pk=objection.pk).update(due_by=day)


def test_open_objections_past_their_due_date_become_overdue_once(ow):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    late, due_today = report(ow), report(ow)
    _due(late, TODAY - dt.timedelta(days=1))
    _due(due_today, TODAY)
    Notification.objects.all().delete()

    assert objections_mark_overdue() == 1
    late.refresh_from_db()
    assert late.overdue and late.escalated_at is not None
    assert not Objection.objects.get(pk=due_today.pk).overdue
    for recipient in (admin, ow.provider_officer):
        [note] = Notification.objects.filter(recipient=recipient)
        assert f"#{late.pk}" in note.subject and "Overdue" in note.subject
        assert late.record_key not in note.body  # platform admins get it too: no personal data
    assert not Notification.objects.filter(recipient=ow.consumer_officer).exists()

    assert objections_mark_overdue() == 0  # escalated once
    assert Notification.objects.filter(recipient=admin).count() == 1


def test_answered_objections_are_never_overdue(ow):
    objection = report(ow)
    objection_answer(
        objection=objection, by=ow.provider_officer, outcome="confirmed", answer="无误"
    )
    _due(objection, TODAY - dt.timedelta(days=3))
    assert objections_mark_overdue() == 0
    assert not Objection.objects.get(pk=objection.pk).overdue


def test_the_escalation_is_mailed_after_the_commit_one_message_per_address(
    ow, django_capture_on_commit_callbacks
):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    objection = report(ow)
    _due(objection, TODAY - dt.timedelta(days=1))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        objections_mark_overdue()
    assert mail.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([admin.email, ow.provider_officer.email])
    assert all(len(m.to) == 1 for m in mail.outbox)
