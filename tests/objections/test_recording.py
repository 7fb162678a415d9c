"""What each change of an objection leaves behind: an admin audit event naming the dataset, the
reporting department (consumer), the provider and the fields concerned, and an append-only
history entry."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction

from apps.audit.models import AuditEvent
from apps.objections.deadlines import objections_mark_overdue
from apps.objections.models import Objection, ObjectionTransition
from apps.objections.services import objection_answer, objection_withdraw
from tests.objections.conftest import KEY, report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday")]


def _event(action: str, objection) -> AuditEvent:
    return AuditEvent.objects.get(
        action=action, body__contains=f'"target":"objection:{objection.pk}"'
    )


def _sides(event: AuditEvent) -> tuple:
    return (event.kind, event.dataset_id, event.consumer_id, event.provider_id,
            event.dataset_code, event.consumer_code, event.provider_code)  # fmt: skip


def _expected(ow) -> tuple:
    return ("admin", ow.dataset.pk, ow.consumer.pk, ow.provider.pk, "GA-RK-001", "WJ", "GA")


def test_submission_is_audited_with_the_sides_the_fields_and_the_key(ow):
    objection = report(ow, fields=["name", "mobile"])
    event = _event("objection.submit", objection)
    assert _sides(event) == _expected(ow)
    assert event.fields == {"name": "name", "mobile": "mobile"}
    assert event.user_id == ow.consumer_officer.pk
    assert event.details["record_key"] == KEY
    assert event.details["description"] == "姓名与户籍登记不一致"
    assert event.details["due_by"] == "2026-03-16"
    # The proposed value may be personal data: the never-purged log only says one was given.
    assert event.details["proposed_value_given"] is True
    assert "张叁" not in event.body


def test_an_applications_submission_names_it_in_the_details(ow):
    from apps.api.services import application_create

    agency, _secret = application_create(department=ow.consumer, name="wj-app", scopes="requests")
    event = _event("objection.submit", report(ow, agency=agency))
    assert _sides(event) == _expected(ow) and event.user_id is None
    assert event.details["application"] == agency.application_id


def test_answer_and_withdrawal_are_audited_with_the_same_sides_and_fields(ow):
    answered = report(ow, fields=["birth_date"])
    objection_answer(objection=answered, by=ow.provider_officer, outcome="corrected", answer="已改")
    event = _event("objection.answer", answered)
    assert _sides(event) == _expected(ow) and event.user_id == ow.provider_officer.pk
    assert event.fields == {"birth_date": "year_only"}
    assert event.details["outcome"] == "corrected" and event.details["answer"] == "已改"

    withdrawn = report(ow)
    objection_withdraw(objection=withdrawn, by=ow.consumer_officer, reason="重复")
    event = _event("objection.withdraw", withdrawn)
    assert _sides(event) == _expected(ow) and event.fields == {"name": "name"}
    assert event.details["reason"] == "重复"


def test_escalation_is_audited_without_a_user(ow, monday):
    objection = report(ow)
    Objection.objects.filter(pk=objection.pk).update(due_by=objection.created_at.date())
    monday.shift(86400)
    assert objections_mark_overdue() == 1
    event = _event("objection.escalate", objection)
    assert _sides(event) == _expected(ow) and event.user_id is None


def test_the_history_records_every_change_and_is_append_only(ow):
    objection = report(ow)
    objection_answer(
        objection=objection, by=ow.provider_officer, outcome="confirmed", answer="无误"
    )
    history = list(objection.transitions.values_list("from_status", "to_status", "actor_id"))
    assert history == [
        ("", "open", ow.consumer_officer.pk),
        ("open", "answered", ow.provider_officer.pk),
    ]
    entry = objection.transitions.first()
    with pytest.raises(DatabaseError), transaction.atomic():
        ObjectionTransition.objects.filter(pk=entry.pk).update(reason="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        ObjectionTransition.objects.filter(pk=entry.pk).delete()
    assert ObjectionTransition.objects.get(pk=entry.pk).reason == "姓名与户籍登记不一致"
