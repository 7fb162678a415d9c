"""Appending to the hash chain: one INSERT. The BEFORE INSERT trigger `audit_event_chain`
(migration 0001) locks the chain-head row, assigns the next sequence number, hashes the event
with its predecessor and moves the head, so the chain is gap-free and totally ordered across
processes. The lock is released when the inserting transaction ends: callers should not hold
a long transaction around a record read."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, connections

from apps.audit.models import AuditEvent
from apps.common import clock

_INSERT = (
    "INSERT INTO audit_event (seq, occurred_at, body, prev_hash, hash)"
    " VALUES (0, %s, %s, '', '') RETURNING seq, prev_hash, hash"
)


def plain_json(value: Any) -> Any:
    """JSON values as given; anything else (dates, decimals, objects) as a string."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dict):
        return {str(k): plain_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain_json(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | Decimal):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    return str(value)


def chain_append(body: dict[str, Any], *, using: str = DEFAULT_DB_ALIAS) -> AuditEvent:
    occurred_at = clock.now()
    text = orjson.dumps(body).decode()
    with connections[using].cursor() as cursor:
        cursor.execute(_INSERT, [occurred_at, text])
        seq, prev_hash, digest = cursor.fetchone()
    instance = AuditEvent(
        seq=seq,
        occurred_at=occurred_at,
        body=text,
        prev_hash=prev_hash,
        hash=digest,
        kind=body.get("kind"),
        action=body.get("action"),
        user_id=body.get("user_id"),
        consumer_id=body.get("consumer_id"),
        provider_id=body.get("provider_id"),
        dataset_id=body.get("dataset_id"),
        outcome=body.get("outcome") or None,
        end_user=body.get("end_user") or None,
    )
    instance._state.adding = False
    instance._state.db = using
    return instance
