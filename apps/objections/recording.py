"""What every state change of an objection leaves behind: an append-only history entry, an
administrative audit event naming the provider, the reporting department, the dataset and the
fields concerned, and notifications (apps.sharing.notifications: one row in the admin and an
e-mail after commit)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.urls import reverse

from apps.common import clock
from apps.common.models import transition_actor_label
from apps.objections.models import Objection, ObjectionField, ObjectionTransition
from apps.sharing.notifications import department_officers


def _person(actor) -> Any:
    return actor if getattr(actor, "is_authenticated", False) and actor.pk else None


def transition_record(
    *, objection: Objection, from_status: str, to_status: str, by=None, agency=None, reason=""
) -> ObjectionTransition:
    return ObjectionTransition.objects.create(
        objection=objection,
        from_status=from_status,
        to_status=to_status,
        actor=_person(by),
        actor_label=transition_actor_label(by=by, agency=agency),
        reason=str(reason),
        at=clock.now(),
    )


def field_masks(items: Iterable[ObjectionField]) -> dict[str, str]:
    """Field name to the masking rule the reporter read it under; by the name kept on the row,
    which outlives the field's removal from the list."""
    return {item.field_name: item.mask for item in items}


def audit_objection(
    *,
    action: str,
    objection: Objection,
    items: Iterable[ObjectionField],
    details: dict[str, Any],
    by=None,
    agency=None,
    origin=None,
) -> None:
    """The admin audit event of a change to `objection`: provider, reporting department,
    dataset and fields go into the event's searchable attributes, the rest into its details.
    Made through the API or an admin page, it also names the acting application (`agency`) and
    the HTTP request (`origin`, an apps.audit.services.RequestOrigin), as a sharing decision
    does."""
    # Imported here so that this module loads even where the audit app is not ready yet; a
    # failure to write the event aborts the change (no change without its audit record).
    from apps.audit.services import audit_record_admin

    audit_record_admin(
        action=action,
        actor=_person(by),
        department=objection.dataset.provider,
        consumer=objection.consumer,
        dataset=objection.dataset,
        fields=field_masks(items),
        target=f"objection:{objection.pk}",
        application=agency.application if agency is not None else None,
        origin=origin,
        details={
            "application": agency.application_id if agency is not None else None,
            "record_key": objection.record_key,
            **details,
        },
    )


def objection_link(objection: Objection) -> str:
    return reverse("admin:objections_objection_change", args=[objection.pk])


def reporter_recipients(objection: Objection) -> list:
    """The officer who reported, if still active and still an officer of the reporting
    department; else (an application reported, or the person left) that department's
    officers."""
    officers = list(department_officers(department=objection.consumer))
    person = [u for u in officers if u.pk == objection.created_by_id]
    return person or officers
