"""Writes of the audit log. Recording never swallows an error: "no audit, no data" means the
caller's read must fail when its event cannot be written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.chain import chain_append, plain_json
from apps.audit.models import AuditEvent, Checkpoint
from apps.audit.signing import key_id, signing_key
from apps.common import clock
from govdata.auditchain import checkpoint_message, format_time

ACCESS_ACTIONS = ("list", "lookup", "export")
OUTCOMES = ("allowed", "denied")


def audit_enabled() -> bool:
    return bool(settings.GOVDATA.get("AUDIT_ENABLED", True))


def _id(obj: Any) -> int | None:
    return None if obj is None else int(obj.pk)


def _text(value: Any, limit: int) -> str:
    return "" if value is None else str(value)[:limit]


def _user_values(user: Any) -> dict[str, Any]:
    if user is None or not getattr(user, "is_authenticated", False):
        return {"user_id": None, "username": ""}
    return {"user_id": int(user.pk), "username": _text(user.get_username(), 150)}


def audit_record_access(
    *,
    request_id: str,
    action: str,
    consumer,
    provider,
    dataset,
    user=None,
    application=None,
    fields: dict[str, str],
    row_count: int | None,
    filters: dict,
    purpose: str,
    case_id: str = "",
    end_user: str = "",
    grant_ids: Sequence[int] = (),
    outcome: str,
    reason: str = "",
    client_ip: str | None = None,
    duration_ms: float | None = None,
) -> AuditEvent | None:
    """Append one record read (allowed or denied). Raises if it cannot be written. Returns None
    only when settings.GOVDATA["AUDIT_ENABLED"] is False (the throughput benchmark's baseline)."""
    if action not in ACCESS_ACTIONS:
        raise ValueError(
            _("Audit action %(action)r is not one of %(allowed)s.")
            % {"action": action, "allowed": ", ".join(ACCESS_ACTIONS)}
        )
    if outcome not in OUTCOMES:
        raise ValueError(
            _("Audit outcome %(outcome)r is not one of %(allowed)s.")
            % {"outcome": outcome, "allowed": ", ".join(OUTCOMES)}
        )
    if not audit_enabled():
        return None
    values = {
        "kind": AuditEvent.Kind.ACCESS.value,
        "action": action,
        "request_id": _text(request_id, 64),
        **_user_values(user),
        "application_id": _id(application),
        "application_name": _text(getattr(application, "name", application), 255)
        if application is not None
        else "",
        "consumer_id": _id(consumer),
        "consumer_code": _text(getattr(consumer, "code", ""), 32),
        "provider_id": _id(provider),
        "provider_code": _text(getattr(provider, "code", ""), 32),
        "dataset_id": _id(dataset),
        "dataset_code": _text(getattr(dataset, "code", ""), 64),
        "fields": {str(k): str(v) for k, v in (fields or {}).items()},
        "row_count": None if row_count is None else int(row_count),
        "filters": plain_json(filters or {}),
        "purpose": _text(purpose, 100_000),
        "case_id": _text(case_id, 128),
        "end_user": _text(end_user, 255),
        "grant_ids": sorted({int(g) for g in grant_ids}),
        "outcome": outcome,
        "reason": _text(reason, 100_000),
        "client_ip": _text(client_ip, 45),
        "duration_ms": None if duration_ms is None else round(float(duration_ms), 3),
        "target": "",
        "details": {},
    }
    return chain_append(values)


def audit_record_admin(
    *, action: str, actor=None, department=None, target: str, details: dict
) -> AuditEvent:
    """Append an administrative decision (publication, approval, rejection, revocation,
    credential or role change). `department` is the department the decision concerns."""
    if not action or len(action) > 64:
        raise ValueError(_("An audit action must be 1 to 64 characters."))
    values = {
        "kind": AuditEvent.Kind.ADMIN.value,
        "action": action,
        "request_id": "",
        **_user_values(actor),
        "application_id": None,
        "application_name": "",
        "consumer_id": None,
        "consumer_code": "",
        "provider_id": _id(department),
        "provider_code": _text(getattr(department, "code", ""), 32),
        "dataset_id": None,
        "dataset_code": "",
        "fields": {},
        "row_count": None,
        "filters": {},
        "purpose": "",
        "case_id": "",
        "end_user": "",
        "grant_ids": [],
        "outcome": "",
        "reason": "",
        "client_ip": "",
        "duration_ms": None,
        "target": _text(target, 255),
        "details": plain_json(details or {}),
    }
    return chain_append(values)


@transaction.atomic
def checkpoint_create(*, force: bool = False) -> Checkpoint | None:
    """Sign the current head. Skipped (None) when the head has not moved since the last
    checkpoint, unless `force`."""
    from apps.audit.models import ChainHead

    head = ChainHead.objects.filter(pk=1).first()
    if head is None:
        return None
    last = Checkpoint.objects.order_by("-seq", "-id").first()
    if not force and last is not None and last.seq == head.seq:
        return None
    signed_at = clock.now()
    message = checkpoint_message(head.seq, head.hash, format_time(signed_at))
    return Checkpoint.objects.create(
        seq=head.seq,
        head_hash=head.hash,
        signed_at=signed_at,
        signature=signing_key().sign(message).hex(),
        key_id=key_id(),
    )
