"""Submitting a data request: what a request may ask for (published, conditional fields of
another department's published dataset, a purpose, a legal basis and an end date within the
limits), and the rule that a department has one pending request per dataset at a time. The
decisions on a request are in apps.sharing.services."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.catalog.models import Dataset, Field
from apps.common import clock
from apps.common.models import transition_actor_label
from apps.common.texts import Text
from apps.sharing import policy
from apps.sharing.grant_services import InvalidTransition
from apps.sharing.models import DataRequest, DataRequestField
from apps.sharing.notifications import department_officers, notify
from apps.sharing.recording import audit_decision, declared_masks, transition_record
from apps.sharing.selectors import working_days_add
from govdata.vocabulary import SharingType

Status = DataRequest.Status
# Advisory-lock class id of a department's submissions (apps.sync.engine uses "SYNC").
SUBMIT_LOCK_NAMESPACE = 0x53554252  # "SUBR"


class PendingRequestExists(InvalidTransition):
    """The department already has a pending request for the dataset: one request per
    department and dataset is reviewed at a time (withdraw it to ask differently). An API maps
    it to 409 Conflict naming the pending request (`pending_id`)."""

    def __init__(self, message: str, *, pending_id: int) -> None:
        super().__init__(message)
        self.pending_id = pending_id


def request_limits() -> tuple[int, int]:
    """(most days ahead a request's end date may be, most characters of its purpose and of its
    legal basis): settings.GOVDATA REQUEST_MAX_VALIDITY_DAYS and REQUEST_TEXT_MAX_CHARS."""
    return (
        int(settings.GOVDATA["REQUEST_MAX_VALIDITY_DAYS"]),
        int(settings.GOVDATA["REQUEST_TEXT_MAX_CHARS"]),
    )


def fields_named(dataset: Dataset, names: Sequence[str], where: str) -> list[Field]:
    if not names:
        raise ValidationError({where: _("Name at least one field.")})
    by_name = {f.name: f for f in dataset.fields.all()}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValidationError(
            {
                where: _("Unknown fields of %(code)s: %(names)s.")
                % {"code": dataset.code, "names": ", ".join(unknown)}
            }
        )
    return [by_name[n] for n in dict.fromkeys(names)]


@transaction.atomic
def request_submit(
    *,
    consumer,
    dataset: Dataset,
    fields: Sequence[str],
    purpose: str,
    legal_basis: str,
    valid_until: dt.date,
    by=None,
    agency=None,
    origin=None,
) -> DataRequest:
    """Submitted by an officer (`by`) or an agency application (`agency`) of `consumer`;
    `origin` (apps.audit.services.RequestOrigin) names the API call in the audit event.

    Unconditional fields are refused, not silently dropped: they need no request, and a
    request that says something else than what is reviewed would mislead both sides. While the
    department has a request for the dataset pending, another is refused
    (PendingRequestExists): the provider reviews one at a time."""
    if by is None and agency is None:
        raise PermissionDenied(_("A request needs a submitting officer or application."))
    policy.require_may_submit_request(consumer=consumer, user=by, agency=agency)
    if dataset.provider_id == consumer.pk:
        raise ValidationError({"dataset": _("A department does not request its own data.")})
    if dataset.status != Dataset.Status.PUBLISHED:
        raise ValidationError({"dataset": _("%(code)s is not published.") % {"code": dataset.code}})
    if dataset.sharing_type == SharingType.NONE:
        raise ValidationError(
            {
                "dataset": _("%(code)s is not shared (不予共享). Legal basis: %(basis)s")
                % {"code": dataset.code, "basis": dataset.legal_basis}
            }
        )
    chosen = fields_named(dataset, fields, "fields")
    # Consumers are judged by what was published, never by the provider's draft.
    unpublished = [f.name for f in chosen if f.published_sharing_type is None]
    if unpublished:
        raise ValidationError(
            {"fields": _("Not published yet: %(names)s.") % {"names": ", ".join(unpublished)}}
        )
    closed = [f for f in chosen if f.published_sharing_type == SharingType.NONE]
    if closed:
        raise ValidationError(
            {
                "fields": [
                    _("%(name)s is not shared (不予共享). Legal basis: %(basis)s")
                    % {"name": f.name, "basis": f.legal_basis}
                    for f in closed
                ]
            }
        )
    open_fields = [f.name for f in chosen if f.published_sharing_type == SharingType.UNCONDITIONAL]
    if open_fields:
        raise ValidationError(
            {
                "fields": _(
                    "%(names)s are shared unconditionally and readable without a request; "
                    "leave them out."
                )
                % {"names": ", ".join(open_fields)}
            }
        )
    errors = {}
    max_days, max_chars = request_limits()
    if not purpose.strip():
        errors["purpose"] = _("State the purpose the data will be used for.")
    if not legal_basis.strip():
        errors["legal_basis"] = _("State the legal basis of the request.")
    for name, text in (("purpose", purpose.strip()), ("legal_basis", legal_basis.strip())):
        if len(text) > max_chars:
            errors[name] = _(
                "At most %(max)s characters are allowed here; this has %(length)s."
            ) % {
                "max": max_chars,
                "length": len(text),
            }
    today = clock.today()
    latest = today + dt.timedelta(days=max_days)
    if valid_until <= today:
        errors["valid_until"] = _("The end date must be after today.")
    elif valid_until > latest:
        errors["valid_until"] = _(
            "The end date may be at most %(days)s days ahead, on %(latest)s at the latest."
        ) % {"days": max_days, "latest": latest.isoformat()}
    if errors:
        raise ValidationError(errors)
    _refuse_second_pending(consumer=consumer, dataset=dataset)

    now = clock.now()
    request = DataRequest.objects.create(
        consumer=consumer,
        dataset=dataset,
        purpose=purpose.strip(),
        legal_basis=legal_basis.strip(),
        valid_until=valid_until,
        due_by=working_days_add(start=today, days=settings.GOVDATA["REQUEST_ANSWER_WORKING_DAYS"]),
        created_by=by if agency is None else None,
        created_by_application_id=agency.application_id if agency is not None else None,
        created_at=now,
    )
    DataRequestField.objects.bulk_create(
        [
            DataRequestField(request=request, field=f, field_name=f.name, field_label=f.label)
            for f in chosen
        ]
    )
    transition_record(
        request=request,
        from_status="",
        to_status=Status.SUBMITTED,
        actor=by,
        actor_label=transition_actor_label(by=by, agency=agency),
        reason=request.purpose,
    )
    audit_decision(
        action="request.submit",
        actor=by,
        dataset=dataset,
        consumer=consumer,
        fields=declared_masks(chosen),
        target=f"request:{request.pk}",
        purpose=request.purpose,
        agency=agency,
        origin=origin,
        details={
            "application": agency.application_id if agency is not None else None,
            "purpose": request.purpose,
            "legal_basis": request.legal_basis,
            "valid_until": valid_until.isoformat(),
            "due_by": request.due_by.isoformat(),
        },
    )
    notify(
        recipients=department_officers(department=dataset.provider),
        subject=Text(
            gettext_noop("New data request #%(id)s for %(code)s"),
            {"id": request.pk, "code": dataset.code},
        ),
        body=Text(
            gettext_noop("%(consumer)s requests %(fields)s of %(dataset)s. Answer by %(due)s."),
            {
                "consumer": consumer.name,
                "fields": ", ".join(f.name for f in chosen),
                "dataset": dataset.name,
                "due": request.due_by.isoformat(),
            },
        ),
        link=request.admin_path,
    )
    return request


def _refuse_second_pending(*, consumer, dataset: Dataset) -> None:
    """Concurrent submissions of one department wait for each other (a transaction-scoped
    advisory lock), so that two identical requests sent at once cannot both pass."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [SUBMIT_LOCK_NAMESPACE, consumer.pk])
    pending = (
        DataRequest.objects.filter(consumer=consumer, dataset=dataset, status=Status.SUBMITTED)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    if pending is not None:
        raise PendingRequestExists(
            _(
                "Request #%(id)s of %(dept)s for %(code)s is still pending; wait for its answer "
                "or withdraw it before asking again."
            )
            % {"id": pending, "dept": consumer.name, "code": dataset.code},
            pending_id=pending,
        )
