"""Writes of the sharing workflow: the decisions on a submitted request (approve, reject,
withdraw, revoke its grant). Submission lives in apps.sharing.submission; grant changes in
apps.sharing.grant_services, re-exported here. Keyword-only, transactional; state changes lock
the request row first (then its grant) so that concurrent decisions serialise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.catalog.models import Dataset, Field, MaskingChoices
from apps.common import clock
from apps.common.models import transition_actor_label
from apps.common.texts import Text, label_text
from apps.sharing import policy
from apps.sharing.grant_services import (  # noqa: F401 - the public API of this module
    InvalidTransition,
    end_of_day,
    grant_revoke,
    grants_apply_field_change,
    grants_end_untrusted_filters,
    grants_expire_due,
)
from apps.sharing.models import DataRequest, Grant, GrantField
from apps.sharing.notifications import department_officers, notify
from apps.sharing.recording import (
    audit_decision,
    declared_masks,
    field_permissions_sync,
    transition_record,
)
from apps.sharing.row_filters import row_filter_validate, rows_label
from apps.sharing.submission import fields_named
from govdata.masking import MASK_STRICTNESS, is_known_rule
from govdata.vocabulary import SharingType

Status = DataRequest.Status


def _lock(request: DataRequest, *expected: str) -> DataRequest:
    locked = DataRequest.objects.select_for_update().get(pk=request.pk)
    if locked.status not in expected:
        raise InvalidTransition(
            _("Request #%(id)s is %(status)s; it can no longer be changed this way.")
            % {"id": locked.pk, "status": locked.get_status_display()}
        )
    return locked


def _declared_mask(field: Field) -> str:
    return field.published_masking or field.masking


def _requested_fields(request: DataRequest) -> list[Field]:
    return list(request.fields.order_by("position", "id"))


def _masks_validate(masks: dict[str, str] | None, fields: list[Field]) -> dict[str, str]:
    if not masks:
        return {}
    by_name = {f.name: f for f in fields}
    errors = []
    for name, rule in masks.items():
        if name not in by_name:
            errors.append(_("%(name)s: not among the approved fields.") % {"name": name})
        elif not is_known_rule(rule):
            errors.append(
                _("%(name)s: unknown masking rule %(rule)s.") % {"name": name, "rule": rule}
            )
        elif MASK_STRICTNESS[rule] < MASK_STRICTNESS.get(_declared_mask(by_name[name]), 99):
            errors.append(
                _("%(name)s: %(rule)s is weaker than the declared %(declared)s.")
                % {"name": name, "rule": rule, "declared": _declared_mask(by_name[name])}
            )
    if errors:
        raise ValidationError({"masks": errors})
    return dict(masks)


def _read_in_clear(dataset: Dataset, approved: list[Field], masks: dict[str, str]) -> set[str]:
    """The fields the consumer will read in clear once the grant is made: unconditional fields
    published without a mask, and the approved ones granted without one."""
    unconditional = {
        f.name
        for f in dataset.fields.all()
        if f.published_sharing_type == SharingType.UNCONDITIONAL and f.published_masking == "none"
    }
    granted = {f.name for f in approved if _declared_mask(f) == "none" and not masks.get(f.name)}
    return unconditional | granted


@transaction.atomic
def request_approve(
    *,
    request: DataRequest,
    by,
    fields: Sequence[str] | None = None,
    valid_until: dt.date | None = None,
    row_filter: dict | None = None,
    masks: dict[str, str] | None = None,
    origin=None,
) -> Grant:
    """Approves all requested fields or a subset, possibly for less time, under a row filter
    and with stricter masks; the consumer's group gets `catalog.read_field` on exactly those."""
    dataset = Dataset.objects.select_related("provider").get(pk=request.dataset_id)
    policy.require_may_decide_request(user=by, request=request)
    request = _lock(request, Status.SUBMITTED)
    requested = {
        f.name: f
        for f in Field.objects.filter(pk__in=request.items.values("field_id")).order_by("position")
    }
    names = list(fields) if fields is not None else list(requested)
    outside = [n for n in names if n not in requested]
    if outside:
        raise ValidationError(
            {"fields": _("Not requested: %(names)s.") % {"names": ", ".join(outside)}}
        )
    approved = fields_named(dataset, names, "fields")
    not_conditional = [
        f.name for f in approved if f.published_sharing_type != SharingType.CONDITIONAL
    ]
    if not_conditional:
        raise ValidationError(
            {
                "fields": _("No longer conditional, cannot be granted: %(names)s.")
                % {"names": ", ".join(not_conditional)}
            }
        )
    until = valid_until or request.valid_until
    if until > request.valid_until:
        raise ValidationError({"valid_until": _("A grant cannot outlast the requested end date.")})
    if until <= clock.today():
        raise ValidationError({"valid_until": _("The end date must be after today.")})
    masks = _masks_validate(masks, approved)
    row_filter = row_filter_validate(
        row_filter=row_filter, dataset=dataset, clear=_read_in_clear(dataset, approved, masks)
    )

    now = clock.now()
    grant = Grant.objects.create(
        request=request,
        consumer_id=request.consumer_id,
        dataset=dataset,
        valid_from=now,
        valid_until=end_of_day(until),
        row_filter=row_filter,
        created_at=now,
    )
    GrantField.objects.bulk_create(
        [
            GrantField(
                grant=grant,
                field=f,
                field_name=f.name,
                field_label=f.label,
                field_masking=_declared_mask(f),
                mask_override=masks.get(f.name, ""),
            )
            for f in approved
        ]
    )
    request.status = Status.APPROVED
    request.decided_at, request.decided_by = now, by
    request.save(update_fields=["status", "decided_at", "decided_by"])
    consumer = request.consumer
    field_permissions_sync(department=consumer, field_ids=[f.pk for f in approved])
    partial = len(approved) < len(requested)
    transition_record(
        request=request,
        from_status=Status.SUBMITTED,
        to_status=Status.APPROVED,
        actor=by,
        reason=Text(
            gettext_noop("Approved %(fields)s until %(until)s."),
            {"fields": ", ".join(f.name for f in approved), "until": until.isoformat()},
        ),
    )
    audit_decision(
        action="request.approve",
        actor=by,
        dataset=dataset,
        consumer=consumer,
        fields=declared_masks(approved, overrides=masks),
        target=f"request:{request.pk}",
        purpose=request.purpose,
        origin=origin,
        details={
            "grant": grant.pk,
            "partial": partial,
            "valid_until": until.isoformat(),
            "row_filter": row_filter,
            "masks": masks,
        },
    )
    approval = Text(
        gettext_noop(
            "%(provider)s approved %(fields)s of %(dataset)s until %(until)s, on the rows "
            "where %(rows)s only."
        )
        if row_filter
        else gettext_noop("%(provider)s approved %(fields)s of %(dataset)s until %(until)s."),
        {
            "provider": dataset.provider.name,
            "fields": ", ".join(f"{f.label}（{f.name}）" for f in approved),
            "dataset": dataset.name,
            "until": until.isoformat(),
            **({"rows": rows_label((row_filter,))} if row_filter else {}),
        },
    )
    notify(
        recipients=department_officers(department=consumer),
        subject=Text(gettext_noop("Request #%(id)s approved"), {"id": request.pk}),
        body=_with_stricter_masks(approval, approved, masks),
        link=grant.admin_path,
    )
    return grant


def _listed(texts: list[Text]) -> Text:
    """Texts one after the other, each translated when read: joined as strings they would be
    frozen in the writer's language."""
    first, *rest = texts
    if not rest:
        return first
    # Translators: separates the items of a list, e.g. "姓名（name）：…；住址（address）：…".
    return Text(gettext_noop("%(first)s; %(rest)s"), {"first": first, "rest": _listed(rest)})


def _with_stricter_masks(approval: Text, approved: list[Field], masks: dict[str, str]) -> Text:
    """The approval notice, naming the stricter masking rules chosen at approval by their
    labels: the consumer reads these fields otherwise than the list publishes them."""
    chosen = [
        Text(
            gettext_noop("%(field)s: %(mask)s"),
            {
                "field": f"{f.label}（{f.name}）",
                "mask": label_text(MaskingChoices(masks[f.name]).label),
            },
        )
        for f in approved
        if masks.get(f.name)
    ]
    if not chosen:
        return approval
    return Text(
        gettext_noop("%(approval)s Masked more strictly for your department: %(masks)s."),
        {"approval": approval, "masks": _listed(chosen)},
    )


@transaction.atomic
def request_reject(*, request: DataRequest, by, reason: str, origin=None) -> DataRequest:
    dataset = Dataset.objects.select_related("provider").get(pk=request.dataset_id)
    policy.require_may_decide_request(user=by, request=request)
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("A rejection must give its reasons.")})
    request = _lock(request, Status.SUBMITTED)
    request.status = Status.REJECTED
    request.decided_at, request.decided_by = clock.now(), by
    request.decision_reason = reason.strip()
    request.save(update_fields=["status", "decided_at", "decided_by", "decision_reason"])
    transition_record(
        request=request,
        from_status=Status.SUBMITTED,
        to_status=Status.REJECTED,
        actor=by,
        reason=request.decision_reason,
    )
    audit_decision(
        action="request.reject",
        actor=by,
        dataset=dataset,
        consumer=request.consumer,
        fields=declared_masks(_requested_fields(request)),
        target=f"request:{request.pk}",
        purpose=request.purpose,
        origin=origin,
        details={"reason": reason},
    )
    notify(
        recipients=department_officers(department=request.consumer),
        subject=Text(gettext_noop("Request #%(id)s rejected"), {"id": request.pk}),
        body=Text(
            gettext_noop("%(provider)s rejected your request for %(dataset)s: %(reason)s"),
            {"provider": dataset.provider.name, "dataset": dataset.name, "reason": reason},
        ),
        link=request.admin_path,
    )
    return request


@transaction.atomic
def request_withdraw(
    *, request: DataRequest, by=None, agency=None, origin=None, reason: str = ""
) -> DataRequest:
    """The requester (an officer `by` or an agency application `agency` of the requesting
    department) takes back a pending request (an approved one ends by revocation)."""
    consumer, dataset = request.consumer, request.dataset
    if by is None and agency is None:
        raise PermissionDenied(_("A withdrawal needs an officer or application."))
    policy.require_may_withdraw_request(request=request, user=by, agency=agency)
    request = _lock(request, Status.SUBMITTED)
    request.status = Status.WITHDRAWN
    request.decided_at = clock.now()
    request.save(update_fields=["status", "decided_at"])
    transition_record(
        request=request,
        from_status=Status.SUBMITTED,
        to_status=Status.WITHDRAWN,
        actor=by,
        actor_label=transition_actor_label(by=by, agency=agency),
        reason=reason,
    )
    audit_decision(
        action="request.withdraw",
        actor=by,
        dataset=dataset,
        consumer=consumer,
        fields=declared_masks(_requested_fields(request)),
        target=f"request:{request.pk}",
        purpose=request.purpose,
        agency=agency,
        origin=origin,
        details={
            "application": agency.application_id if agency is not None else None,
            "reason": reason,
        },
    )
    # The provider no longer has to answer: its officers' to-do list and notice say so.
    notify(
        recipients=department_officers(department=dataset.provider),
        subject=Text(gettext_noop("Request #%(id)s withdrawn"), {"id": request.pk}),
        body=Text(
            gettext_noop("%(consumer)s withdrew its request for %(dataset)s: %(reason)s"),
            {"consumer": consumer.name, "dataset": dataset.name, "reason": reason or "—"},
        ),
        link=request.admin_path,
    )
    return request


def request_revoke(*, request: DataRequest, by, reason: str, origin=None) -> Grant:
    """Revokes the grant of `request`. The right is asked first, so that a caller who may never
    revoke is refused (PermissionDenied) whatever the request's state; a request without a grant
    (still pending, rejected, withdrawn) is then an InvalidTransition."""
    policy.require_may_revoke_request(user=by, request=request)
    grant = Grant.objects.select_related("dataset__provider").filter(request=request).first()
    if grant is None:
        raise InvalidTransition(
            _("Request #%(id)s is %(status)s; it has no grant to revoke.")
            % {"id": request.pk, "status": request.get_status_display()}
        )
    return grant_revoke(grant=grant, by=by, reason=reason, origin=origin)
