"""Writes of the audit log. Recording never swallows an error: "no audit, no data" means the
caller's read must fail when its event cannot be written."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from apps.audit.chain import chain_append, chain_append_read, plain_json
from apps.audit.models import AuditEvent, Checkpoint
from apps.audit.signing import key_id, signing_key
from apps.common import clock
from apps.common.prepared import execute_prepared
from apps.common.security import client_ip
from govdata.auditchain import checkpoint_message, format_time

# "export.end": an export's second event, written when its stream ends, with the rows it
# actually sent and how it ended (the first, "export", is written before any data goes).
ACCESS_ACTIONS = ("list", "lookup", "export", "export.end")
# Events that are not reads of their own: counted neither as reads nor in per-day charts.
FOLLOW_UP_ACTIONS = ("export.end",)
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


def _parties(*, application, consumer, provider, dataset) -> dict[str, Any]:
    """Who acted and whose data an event is about, as every event's body holds them (ids and
    codes, so that the body reads without the tables): the application, the consumer and
    provider departments, the dataset."""
    return {
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
    }


def _access_values(
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
) -> dict[str, Any]:
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
    return {
        "kind": AuditEvent.Kind.ACCESS.value,
        "action": action,
        "request_id": _text(request_id, 64),
        **_user_values(user),
        **_parties(application=application, consumer=consumer, provider=provider, dataset=dataset),
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


def audit_record_access(**event: Any) -> AuditEvent | None:
    """Append one record read (allowed or denied); the keyword arguments are the event's
    attributes (request_id, action, consumer, provider, dataset, user, application, fields,
    row_count, filters, purpose, case_id, end_user, grant_ids, outcome, reason, client_ip,
    duration_ms). Raises if it cannot be written. Returns None only when
    settings.GOVDATA["AUDIT_ENABLED"] is False (the throughput benchmark's baseline)."""
    values = _access_values(**event)
    if not audit_enabled():
        return None
    return chain_append(values)


def audit_record_read(
    *, read_sql: str, read_params: list[Any], started: float, **event: Any
) -> str | None:
    """Run an allowed single-record read (a statement giving at most one row of one text
    column) and append its event, with the number of rows read and the duration since
    `started` (time.perf_counter()), in one round trip (chain.chain_append_read). Returns the
    read's value, or None when no row matched; raises, having returned nothing, when the event
    cannot be written."""
    values = _access_values(**{**event, "row_count": None, "duration_ms": None})
    if not audit_enabled():
        with connection.cursor() as cursor:
            execute_prepared(cursor, read_sql, read_params)
            row = cursor.fetchone()
        return None if row is None else row[0]
    del values["row_count"], values["duration_ms"]  # appended last, by the read itself
    value, _event = chain_append_read(
        values, read_sql, read_params, started=started, return_event=False
    )
    return value


@dataclass(frozen=True)
class RequestOrigin:
    """The HTTP request an administrative action came through (an API call or an admin page),
    for its audit event: the request's X-Request-Id and the client's address (as on access
    events)."""

    request_id: str = ""
    client_ip: str | None = None


def origin_of(request) -> RequestOrigin:
    """The origin of an action taken in `request`: its request id (apps.common.middleware) and
    the client's address behind our own proxies (apps.common.security.client_ip)."""
    return RequestOrigin(
        request_id=getattr(request, "request_id", "") or "", client_ip=client_ip(request)
    )


def audit_record_admin(
    *,
    action: str,
    actor=None,
    department=None,
    target: str,
    details: dict,
    consumer=None,
    dataset=None,
    fields: dict[str, str] | None = None,
    application=None,
    origin: RequestOrigin | None = None,
    purpose: str = "",
) -> AuditEvent:
    """Append an administrative decision (publication, approval, rejection, revocation,
    credential or role change). `department` is the department the decision concerns (recorded
    as the provider). A decision about one department's use of a dataset (a data request or a
    grant) also names the `consumer` department, the `dataset` and the `fields` concerned (name
    to masking rule, as on an access event), so that the auditors' searches by consumer, dataset
    and field find it like a read. A decision taken through the API also names the agency
    `application` acting (its OAuth2 client: id and name), if any, and the call's `origin`
    (request id, client address), like an access event; a decision about a data request names
    its stated `purpose`, so that a search by purpose finds the request's whole history next
    to the reads made for it."""
    if not action or len(action) > 64:
        raise ValueError(_("An audit action must be 1 to 64 characters."))
    origin = origin or RequestOrigin()
    values = {
        "kind": AuditEvent.Kind.ADMIN.value,
        "action": action,
        "request_id": _text(origin.request_id, 64),
        **_user_values(actor),
        **_parties(
            application=application, consumer=consumer, provider=department, dataset=dataset
        ),
        "fields": {str(k): str(v) for k, v in (fields or {}).items()},
        "row_count": None,
        "filters": {},
        "purpose": _text(purpose, 100_000),
        "case_id": "",
        "end_user": "",
        "grant_ids": [],
        "outcome": "",
        "reason": "",
        "client_ip": _text(origin.client_ip, 45),
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
