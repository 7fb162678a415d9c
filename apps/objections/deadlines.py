"""Deadline service run by Celery beat: open objections past their due date are marked overdue
and escalated (the provider's officers and the platform administrators are told), once."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_noop

from apps.common import clock
from apps.common.texts import Text
from apps.objections.models import Objection
from apps.objections.recording import audit_objection, objection_link
from apps.sharing.deadlines import escalate_overdue, notify_overdue


def _escalate(objection: Objection) -> None:
    provider = objection.dataset.provider
    audit_objection(
        action="objection.escalate",
        objection=objection,
        items=objection.items.select_related("field").order_by("field__position"),
        details={"due_by": objection.due_by.isoformat()},
    )
    subject = Text(
        gettext_noop("Overdue: objection #%(id)s to %(provider)s"),
        {"id": objection.pk, "provider": provider.name},
    )
    # No record key: it may be personal data, and platform administrators get this too.
    body = Text(
        gettext_noop(
            "%(consumer)s objected to a record of %(dataset)s; the answer was due on "
            "%(due)s and is still missing."
        ),
        {
            "consumer": objection.consumer.name,
            "dataset": objection.dataset.name,
            "due": objection.due_by.isoformat(),
        },
    )
    notify_overdue(provider=provider, subject=subject, body=body, link=objection_link(objection))


def objections_mark_overdue(*, today: dt.date | None = None) -> int:
    """Returns how many objections became overdue."""
    return escalate_overdue(
        model=Objection,
        open_status=Objection.Status.OPEN,
        today=today or clock.today(),
        escalate=_escalate,
    )
