"""Deadline services run by Celery beat: remind the provider before a request's due date,
mark overdue requests and escalate them to the platform administrators."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_noop

from apps.common import clock
from apps.common.texts import Text
from apps.sharing.models import DataRequest
from apps.sharing.notifications import department_officers, notify, platform_admins
from apps.sharing.recording import audit_decision, declared_masks
from apps.sharing.selectors import holiday_calendar
from govdata import workdays


def requests_remind_due(*, today: dt.date | None = None) -> int:
    """One reminder per request, once it is at most N working days from its due date."""
    today = today or clock.today()
    before = settings.GOVDATA["REMINDER_WORKING_DAYS_BEFORE"]
    pending = list(
        DataRequest.objects.filter(
            status=DataRequest.Status.SUBMITTED, reminded_at__isnull=True, due_by__gte=today
        ).values_list("pk", "due_by")
    )
    if not pending:
        return 0
    calendar = holiday_calendar(start=today, end=max(due for _pk, due in pending))
    due_soon = [
        pk for pk, due in pending if workdays.working_days_between(today, due, calendar) <= before
    ]
    sent = 0
    for pk in due_soon:
        with transaction.atomic():
            request = (
                DataRequest.objects.select_for_update(of=("self",))
                .select_related("consumer", "dataset", "dataset__provider")
                .get(pk=pk)
            )
            if request.status != DataRequest.Status.SUBMITTED or request.reminded_at:
                continue
            request.reminded_at = clock.now()
            request.save(update_fields=["reminded_at"])
            notify(
                recipients=department_officers(department=request.dataset.provider),
                subject=Text(
                    gettext_noop("Request #%(id)s is due on %(due)s"),
                    {"id": request.pk, "due": request.due_by.isoformat()},
                ),
                body=Text(
                    gettext_noop("%(consumer)s is waiting for your answer on %(dataset)s."),
                    {"consumer": request.consumer.name, "dataset": request.dataset.name},
                ),
                link=request.admin_path,
            )
            sent += 1
    return sent


def escalate_overdue(*, model, open_status: str, today: dt.date, escalate) -> int:
    """Rows of `model` (a request, an objection) still `open_status` past their due date become
    overdue and are escalated once: each in its own transaction, locked and checked again
    (answered meanwhile, or another run got there first); `escalate(row)` records and tells.
    Returns how many were escalated."""
    ids = list(
        model.objects.filter(
            status=open_status, due_by__lt=today, escalated_at__isnull=True
        ).values_list("pk", flat=True)
    )
    touched = ["overdue", "escalated_at"]
    if any(f.name == "updated_at" for f in model._meta.fields):
        touched.append("updated_at")
    escalated = 0
    for pk in ids:
        with transaction.atomic():
            row = (
                model.objects.select_for_update(of=("self",))
                .select_related("consumer", "dataset", "dataset__provider")
                .get(pk=pk)
            )
            if row.status != open_status or row.escalated_at:
                continue
            now = clock.now()
            row.overdue, row.escalated_at = True, now
            if "updated_at" in touched:
                row.updated_at = now
            row.save(update_fields=touched)
            escalate(row)
            escalated += 1
    return escalated


def notify_overdue(*, provider, subject: Text, body: Text, link: str) -> None:
    """The platform administrators and the provider's officers."""
    notify(recipients=platform_admins(), subject=subject, body=body, link=link)
    notify(
        recipients=department_officers(department=provider), subject=subject, body=body, link=link
    )


def _escalate_request(request: DataRequest) -> None:
    provider = request.dataset.provider
    audit_decision(
        action="request.escalate",
        actor=None,
        dataset=request.dataset,
        consumer=request.consumer,
        fields=declared_masks(request.fields.order_by("position", "id")),
        target=f"request:{request.pk}",
        purpose=request.purpose,
        details={"due_by": request.due_by.isoformat()},
    )
    subject = Text(
        gettext_noop("Overdue: request #%(id)s to %(provider)s"),
        {"id": request.pk, "provider": provider.name},
    )
    body = Text(
        gettext_noop(
            "%(consumer)s asked for %(dataset)s; the answer was due on %(due)s and is still "
            "missing."
        ),
        {
            "consumer": request.consumer.name,
            "dataset": request.dataset.name,
            "due": request.due_by.isoformat(),
        },
    )
    link = request.admin_path
    notify_overdue(provider=provider, subject=subject, body=body, link=link)


def requests_mark_overdue(*, today: dt.date | None = None) -> int:
    """Pending requests past their due date become overdue and are escalated, once."""
    return escalate_overdue(
        model=DataRequest,
        open_status=DataRequest.Status.SUBMITTED,
        today=today or clock.today(),
        escalate=_escalate_request,
    )
