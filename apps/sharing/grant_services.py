"""Writes that end or narrow grants: revocation, expiry and the provider changing a published
field. Every path locks the request row before the grant row, as approval does."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.catalog.models import SharingTypeChoices
from apps.common import clock
from apps.common.texts import Text, label_text
from apps.sharing import policy
from apps.sharing.models import DataRequest, Grant, GrantField
from apps.sharing.notifications import department_officers, notify
from apps.sharing.recording import (
    audit_decision,
    field_permissions_sync,
    granted_masks,
    reason_recorded,
    transition_record,
)
from govdata.vocabulary import SharingType


class InvalidTransition(ValidationError):
    """The request or grant is no longer in a state that allows the change (e.g. a concurrent
    decision got there first). An API maps it to 409 Conflict."""


def end_of_day(day: dt.date) -> dt.datetime:
    """A grant `valid_until` a date holds through that whole local day."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min)
    return timezone.make_aware(midnight)


def _sharing_type_label(code: str) -> Text | str:
    return label_text(SharingTypeChoices(code).label) if code in SharingTypeChoices else code


def _lock_grant(grant: Grant) -> tuple[DataRequest, Grant]:
    request = DataRequest.objects.select_for_update().get(pk=grant.request_id)
    locked = (
        Grant.objects.select_for_update().select_related("consumer", "dataset").get(pk=grant.pk)
    )
    return request, locked


def _end_grant(
    *,
    grant: Grant,
    request: DataRequest,
    to: str,
    by,
    reason: Text | str,
    action: str,
    fields: dict[str, str] | None = None,
    origin=None,
) -> None:
    """`fields`: those the holder loses (name to mask), by default the grant's remaining ones.
    `reason`: a Text when the platform words it (shown to each reader in their language), the
    officer's own words otherwise."""
    now = clock.now()
    text, message = reason_recorded(reason)
    grant.status = to
    if to == Grant.Status.REVOKED:
        grant.revoked_at, grant.revoked_by = now, by
        grant.revoked_reason, grant.revoked_reason_message = text, message
    grant.save(
        update_fields=[
            "status",
            "revoked_at",
            "revoked_by",
            "revoked_reason",
            "revoked_reason_message",
        ]
    )
    previous = request.status
    request.status = (
        DataRequest.Status.REVOKED if to == Grant.Status.REVOKED else DataRequest.Status.EXPIRED
    )
    request.save(update_fields=["status"])
    items = list(grant.items.select_related("field").order_by("field__position", "field_id"))
    if fields is None:
        fields = granted_masks(i for i in items if i.removed_at is None)
    field_permissions_sync(
        department=grant.consumer, field_ids=[i.field_id for i in items if i.field_id is not None]
    )
    transition_record(
        request=request,
        from_status=previous,
        to_status=request.status,
        actor=by,
        actor_label="" if by else "system",
        reason=reason,
    )
    audit_decision(
        action=action,
        actor=by,
        dataset=grant.dataset,
        consumer=grant.consumer,
        fields=fields,
        target=f"grant:{grant.pk}",
        origin=origin,
        purpose=request.purpose,
        details={"request": request.pk, "reason": text},
    )
    notify(
        recipients=department_officers(department=grant.consumer),
        subject=Text(
            gettext_noop("Grant on %(code)s revoked")
            if to == Grant.Status.REVOKED
            else gettext_noop("Grant on %(code)s expired"),
            {"code": grant.dataset.code},
        ),
        body=Text(
            gettext_noop(
                "Your department can no longer read the fields of %(dataset)s granted by this "
                "grant. Reason: %(reason)s"
            ),
            {"dataset": grant.dataset.name, "reason": reason},
        ),
        link=grant.admin_path,
    )


@transaction.atomic
def grant_revoke(*, grant: Grant, by, reason: str, origin=None) -> Grant:
    """`origin` (apps.audit.services.RequestOrigin): the API call, named in the audit event.
    The right is asked first: a caller who may not revoke is refused whatever the input."""
    policy.require_may_revoke_grant(user=by, grant=grant)
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("A revocation must give its reason.")})
    request, grant = _lock_grant(grant)
    if grant.status != Grant.Status.ACTIVE:
        raise InvalidTransition(
            _("The grant is already %(status)s.") % {"status": grant.get_status_display()}
        )
    _end_grant(
        grant=grant,
        request=request,
        to=Grant.Status.REVOKED,
        by=by,
        reason=reason.strip(),
        action="grant.revoke",
        origin=origin,
    )
    return grant


def grants_expire_due(*, at: dt.datetime | None = None) -> int:
    """Marks every active grant past its end as expired and removes its permissions; each
    grant in its own transaction so one failure does not hold back the others."""
    at = at or clock.now()
    ids = list(
        Grant.objects.filter(status=Grant.Status.ACTIVE, valid_until__lte=at).values_list(
            "pk", flat=True
        )
    )
    expired = 0
    for grant in Grant.objects.filter(pk__in=ids):
        with transaction.atomic():
            request, locked = _lock_grant(grant)
            if locked.status != Grant.Status.ACTIVE or locked.valid_until > at:
                continue  # revoked or extended meanwhile
            _end_grant(
                grant=locked,
                request=request,
                to=Grant.Status.EXPIRED,
                by=None,
                reason=Text(gettext_noop("The grant reached its end date.")),
                action="grant.expire",
            )
            expired += 1
    return expired


@transaction.atomic
def grants_apply_field_change(
    *, field, previous_sharing_type: str, new_sharing_type: str | None, by, reason: str
) -> int:
    """A published field became `none` or was removed: the grants holding it lose it (and end
    if nothing is left). Becoming conditional from unconditional touches no grant: grants
    only ever hold conditional fields. Returns the number of grants affected."""
    if new_sharing_type not in (None, SharingType.NONE):
        return 0
    if not reason or not reason.strip():
        raise ValidationError({"reason": _("A change of sharing must give its reason.")})
    if new_sharing_type is None:
        change = Text(
            gettext_noop("Field %(name)s was removed: %(reason)s"),
            {"name": field.name, "reason": reason.strip()},
        )
    else:
        # The sharing types by their labels, translated when read (not the internal codes).
        change = Text(
            gettext_noop("Field %(name)s is no longer shared (%(old)s → %(new)s): %(reason)s"),
            {
                "name": field.name,
                "old": _sharing_type_label(previous_sharing_type),
                "new": _sharing_type_label(new_sharing_type),
                "reason": reason.strip(),
            },
        )
    what, message = reason_recorded(change)
    # The rule the holders read the field under until now: the field's published one, not yet
    # replaced by this publication's.
    granted_masking = field.published_masking or field.masking
    grant_ids = list(
        GrantField.objects.filter(
            field=field, removed_at__isnull=True, grant__status=Grant.Status.ACTIVE
        )
        .order_by("grant_id")
        .values_list("grant_id", flat=True)
    )
    affected = 0
    for grant in Grant.objects.filter(pk__in=grant_ids).order_by("pk"):
        request, grant = _lock_grant(grant)
        if grant.status != Grant.Status.ACTIVE:
            continue
        live = {
            i.field_id: i
            for i in grant.items.select_related("field").filter(removed_at__isnull=True)
        }
        lost = granted_masks([live[field.pk]]) if field.pk in live else {}
        GrantField.objects.filter(grant=grant, field=field, removed_at__isnull=True).update(
            removed_at=clock.now(),
            removed_reason=what,
            removed_reason_message=message,
            field_masking=granted_masking,
        )
        affected += 1
        if not live.keys() - {field.pk}:
            _end_grant(
                grant=grant,
                request=request,
                to=Grant.Status.REVOKED,
                by=by,
                reason=change,
                action="grant.revoke",
                fields=lost,
            )
            continue
        field_permissions_sync(department=grant.consumer, field_ids=[field.pk])
        transition_record(
            request=request,
            from_status=request.status,
            to_status=request.status,
            actor=by,
            reason=change,
        )
        audit_decision(
            action="grant.narrow",
            actor=by,
            dataset=grant.dataset,
            consumer=grant.consumer,
            fields=lost,
            target=f"grant:{grant.pk}",
            purpose=request.purpose,
            details={"reason": what},
        )
        notify(
            recipients=department_officers(department=grant.consumer),
            subject=Text(gettext_noop("Grant on %(code)s narrowed"), {"code": grant.dataset.code}),
            body=change,
            link=grant.admin_path,
        )
    return affected


def grants_end_untrusted_filters(*, dataset, by, reason: str) -> int:
    """After a publication: a grant whose row filter names a field its holder no longer reads
    in clear gives nothing (govdata.policy: the filter would tell that field's values). It is
    ended as revoked, with the publication's reason, and its holder told: a provider does not
    end sharing silently. Returns the number of grants ended."""
    ended = 0
    untrusted = policy.grants_with_untrusted_filters(dataset=dataset)
    for grant in Grant.objects.filter(pk__in=untrusted).order_by("pk"):
        request, grant = _lock_grant(grant)
        if grant.status != Grant.Status.ACTIVE:
            continue
        names = sorted({str(key).split("__")[0] for key in grant.row_filter or {}})
        what = Text(
            gettext_noop(
                "Its row filter names a field no longer shared in clear (%(fields)s): %(reason)s"
            ),
            {"fields": ", ".join(names), "reason": reason},
        )
        _end_grant(
            grant=grant,
            request=request,
            to=Grant.Status.REVOKED,
            by=by,
            reason=what,
            action="grant.revoke",
        )
        ended += 1
    return ended
