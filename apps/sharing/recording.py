"""What every state change of a request or grant leaves behind: an append-only history entry,
an admin audit event naming the provider, consumer, dataset and fields concerned, and the
department's field permissions brought in line with its grants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef
from django.utils import translation

from apps.catalog.models import Field, FieldGroupObjectPermission
from apps.common import clock
from apps.common.texts import Text
from apps.sharing.models import DataRequest, Grant, GrantField, RequestTransition
from govdata.masking import stricter_mask


def reason_recorded(reason: Text | str) -> tuple[str, list | None]:
    """A reason as stored: the text in the platform's language (settings.LANGUAGE_CODE, what
    the API, the audit log and searches read, whoever's language the act was made in) and, for
    a reason the platform writes (a Text), the Text as JSON to show each reader in their
    language. A person's own words are kept as typed, with no JSON."""
    if not isinstance(reason, Text):
        return str(reason), None
    with translation.override(settings.LANGUAGE_CODE):
        return str(reason), reason.to_json()


def transition_record(
    *,
    request: DataRequest,
    from_status: str,
    to_status: str,
    actor=None,
    actor_label: str = "",
    reason: Text | str = "",
) -> RequestTransition:
    text, message = reason_recorded(reason)
    return RequestTransition.objects.create(
        request=request,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_label=actor_label or (str(actor) if actor is not None else ""),
        reason=text,
        reason_message=message,
        at=clock.now(),
    )


def audit_decision(
    *,
    action: str,
    actor,
    dataset,
    consumer,
    fields: Mapping[str, str],
    target: str,
    details: dict[str, Any],
    agency=None,
    origin=None,
    purpose: str = "",
) -> None:
    """The admin audit event of a decision about `consumer`'s use of `dataset`: provider,
    consumer, dataset and the fields concerned (name to masking rule) go into the event's
    searchable attributes, the rest into its details. Taken through the API, it also names the
    acting agency application (`agency`, an AgencyApplication) and the call (`origin`, an
    apps.audit.services.RequestOrigin: request id and client address)."""
    # Imported here so that this module loads even where the audit app is not ready yet; a
    # failure to write the event aborts the decision (no decision without its audit record).
    from apps.audit.services import audit_record_admin

    audit_record_admin(
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        department=dataset.provider,
        consumer=consumer,
        dataset=dataset,
        fields=fields,
        target=target,
        details=details,
        application=agency.application if agency is not None else None,
        origin=origin,
        purpose=purpose,
    )


def declared_masks(
    fields: Iterable[Field], *, overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Field name to the masking rule consumers are held to: the published one, or the stricter
    of it and the grant's override."""
    overrides = overrides or {}
    result = {}
    for field in fields:
        mask = field.published_masking or field.masking
        override = overrides.get(field.name)
        result[field.name] = stricter_mask(mask, override) if override else mask
    return result


def granted_masks(items: Iterable[GrantField]) -> dict[str, str]:
    """declared_masks of a grant's items (their fields loaded). An item whose field has since
    been removed from the list counts with the rule it was granted under (its snapshot)."""
    result = {}
    for item in items:
        if item.field is not None:
            declared = item.field.published_masking or item.field.masking
        else:
            declared = item.field_masking
        override = item.mask_override
        result[item.field_name] = stricter_mask(declared, override) if override else declared
    return result


def read_field_permission() -> Permission:
    return Permission.objects.get(codename="read_field", content_type__app_label="catalog")


def field_permissions_sync(*, department, field_ids: Iterable[int]) -> None:
    """Gives the department's group `catalog.read_field` on exactly those of `field_ids` that
    one of its live grants still covers, and removes it from the others at once."""
    field_ids = set(field_ids)
    if not field_ids:
        return
    now = clock.now()
    covered = set(
        GrantField.objects.filter(
            field_id__in=field_ids,
            removed_at__isnull=True,
            grant__consumer_id=department.pk,
            grant__status=Grant.Status.ACTIVE,
            grant__valid_until__gt=now,
        ).values_list("field_id", flat=True)
    )
    FieldGroupObjectPermission.objects.filter(
        group_id=department.group_id,
        permission__codename="read_field",
        permission__content_type__app_label="catalog",
        content_object_id__in=field_ids - covered,
    ).delete()
    if covered:
        permission = read_field_permission()
        FieldGroupObjectPermission.objects.bulk_create(
            [
                FieldGroupObjectPermission(
                    group_id=department.group_id, permission=permission, content_object_id=fid
                )
                for fid in sorted(covered)
            ],
            ignore_conflicts=True,
        )


def orphan_field_permissions_remove(*, department) -> int:
    """Removes the department's field permissions that no live grant backs (a safety net for
    the expiry task)."""
    now = clock.now()
    backed = GrantField.objects.filter(
        field_id=OuterRef("content_object_id"),
        removed_at__isnull=True,
        grant__consumer_id=department.pk,
        grant__status=Grant.Status.ACTIVE,
        grant__valid_until__gt=now,
    )
    deleted, _ = (
        FieldGroupObjectPermission.objects.filter(
            group_id=department.group_id, permission__codename="read_field"
        )
        .filter(~Exists(backed))
        .delete()
    )
    return deleted
