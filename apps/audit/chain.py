"""Appending to the hash chain: one INSERT. The BEFORE INSERT trigger `audit_event_chain`
(migrations 0001, 0004) locks the chain-head row, assigns the next sequence number, hashes the
event with its predecessor and moves the head, so the chain is gap-free and totally ordered
across processes. The lock is released when the inserting transaction ends.

Outside a transaction (the API's reads) that lock must not be held while the commit waits for
its WAL flush: under load every reader would queue behind one disk flush after another. So the
event commits with synchronous_commit off (the lock goes at once; the next event chains onto
this committed one), and a second transaction in the same round trip writes a WAL record (a
logical message, no table row) and commits synchronously, which flushes the WAL up to and
including the event before the call returns. WAL is a sequence: an event is only ever lost
together with every event chained after it, so the chain never has a hole, and the caller
still holds no data before its event is on disk ("no audit, no data"). Concurrent readers'
flushes are merged by PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from decimal import Decimal
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, DatabaseError, Error, connections

from apps.audit.models import AuditEvent
from apps.common import clock
from apps.common.prepared import prepared_call

# An event is stamped no earlier than the first instant of the month of the latest event
# chained (migration 0004): a request that took its time just before a month's end but reached
# the chain after an event of the next month is recorded at the start of that month, so every
# month's events stay one run of the chain and its partition can be archived alone. The lock
# on the head row is the one the chain trigger takes next anyway. The time is settled here,
# before the row is routed to its month's partition: the trigger may not move it to another.
_STAMP = (
    "greatest(%s::timestamptz, (SELECT date_trunc('month', occurred_at, 'UTC')"
    " FROM audit_chain_head WHERE id = 1 FOR UPDATE))"
)
_RETURNING = "RETURNING seq, prev_hash, hash, occurred_at, body"
_INSERT = (
    "INSERT INTO audit_event (seq, occurred_at, body, prev_hash, hash)"
    f" VALUES (0, {_STAMP}, %s, '', '') {_RETURNING}"
)
# A transactional logical message writes WAL and nothing else, so the synchronous commit of the
# transaction around it flushes the WAL up to it, past the event committed just before; it
# needs no privilege and leaves no row behind.
_FLUSH = "pg_logical_emit_message(true, 'govdata.audit', '')"
_REMEMBER_APPENDED = (
    "set_config('govdata.appended', concat_ws(' ', appended.seq, appended.prev_hash,"
    " appended.hash, to_char(appended.occurred_at AT TIME ZONE 'UTC',"
    ' \'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\'), appended.body), false)'
)
_FORGET = "set_config('govdata.appended', '', false), set_config('govdata.read', '', false)"


# The write that flushes the WAL past the event (see the module docstring). What the event's
# transaction remembered in session settings (a round trip returns only its last result) comes
# back from it, and it empties them: nothing of the read stays in the session, and a round trip
# that appended nothing returns empty values, not old ones.
_FLUSH_AND_RETURN = (
    "WITH got AS MATERIALIZED (SELECT current_setting('govdata.appended') AS appended,"
    " current_setting('govdata.read') AS read),"
    f" forgot AS MATERIALIZED (SELECT {_FORGET},"
    f" set_config('synchronous_commit', 'on', true), {_FLUSH} FROM got)"
    " SELECT got.appended, got.read FROM got, forgot"
)
_APPEND = f"WITH appended AS ({_INSERT}) SELECT {_REMEMBER_APPENDED} FROM appended"


def _read_and_append(read_sql: str) -> str:
    """The read (at most one row of one text column) and its event, whose body is completed
    with the number of rows the read returned and the request's duration so far (the
    milliseconds passed in, plus the database's own time on this round trip), in the same
    transaction. The body comes before the time in the select list: the read then runs before
    the time's subquery locks the chain head."""
    return (
        f"WITH read(value) AS MATERIALIZED ({read_sql}), appended AS ("
        "INSERT INTO audit_event (seq, body, occurred_at, prev_hash, hash)"
        " SELECT 0, %s || (SELECT count(*) FROM read) || ',\"duration_ms\":'"
        " || round(%s + extract(epoch FROM clock_timestamp() - statement_timestamp()) * 1000,"
        f" 3) || '}}', {_STAMP}, '', '' {_RETURNING})"
        f" SELECT {_REMEMBER_APPENDED}, set_config('govdata.read',"
        " coalesce((SELECT value FROM read LIMIT 1), ''), false) FROM appended"
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


def _end_failed_block(cursor) -> None:
    """An error stops the round trip before its COMMIT: end the transaction it opened, so the
    connection is usable (and in autocommit) again. A broken connection needs nothing."""
    with contextlib.suppress(Error):  # a closed connection raises InterfaceError
        cursor.execute("ROLLBACK")


def _event(body: dict[str, Any], appended, using: str) -> AuditEvent:
    seq, prev_hash, digest, occurred_at, text = appended
    if isinstance(occurred_at, str):
        occurred_at = dt.datetime.fromisoformat(occurred_at)
    instance = AuditEvent(
        seq=int(seq),
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


def _run_fast(cursor, statement: str, params: list[Any]) -> tuple[list[str], str]:
    """Run `statement` (which appends the event) in a transaction that commits without waiting
    for the disk, then the write that flushes the WAL past it, committed synchronously whatever
    the server's default, in one round trip; both are prepared statements of the connection
    (planning them cost more than running them). Returns (seq, prev_hash, hash, time, body) of
    the appended event and what the read remembered."""
    append = prepared_call(cursor, statement, params)
    flush = prepared_call(cursor, _FLUSH_AND_RETURN, [])
    try:
        cursor.execute(
            f"BEGIN; SET LOCAL synchronous_commit = off; SELECT {_FORGET}; {append.sql}; "
            f"COMMIT; {flush.sql}",
            [*append.values, *flush.values],
        )
    except BaseException as exc:  # an interrupted round trip must not leave its BEGIN open
        _end_failed_block(cursor)
        append.failed(exc)
        flush.failed(exc)
        raise
    append.done()
    flush.done()
    appended, read = cursor.fetchone()
    if not appended:  # the event's INSERT gave no row: no data without its event
        raise DatabaseError("The audit event was not appended.")
    return appended.split(" ", 4), read


def _in_transaction(connection) -> bool:
    """Inside an atomic block or with autocommit off: the caller's transaction decides."""
    return connection.in_atomic_block or not connection.get_autocommit()


def chain_append(body: dict[str, Any], *, using: str = DEFAULT_DB_ALIAS) -> AuditEvent:
    occurred_at = clock.now()
    text = orjson.dumps(body).decode()
    connection = connections[using]
    with connection.cursor() as cursor:
        if _in_transaction(connection):  # durable with the caller's commit, lock held till then
            cursor.execute(_INSERT, [occurred_at, text])
            appended = cursor.fetchone()
        else:
            appended, _read = _run_fast(cursor, _APPEND, [occurred_at, text])
    return _event(body, appended, using)


def chain_append_read(
    body: dict[str, Any],
    read_sql: str,
    read_params: list[Any],
    *,
    started: float,
    using: str = DEFAULT_DB_ALIAS,
    return_event: bool = True,
) -> tuple[str | None, AuditEvent | None]:
    """Run a single-row read (one text column, or no row) and append its event, whose body
    ends with `row_count` (0 or 1) and `duration_ms` (since `started`, a time.perf_counter()
    reading of this process, until the read was done): one round trip outside a transaction,
    so an audited read costs the database no more trips than an unaudited one. Returns the
    read's value (None for no row) only once the event is durable, and the event (None with
    `return_event` off, which spares a caller that only serves the value building it)."""
    occurred_at = clock.now()
    connection = connections[using]
    if _in_transaction(connection):
        with connection.cursor() as cursor:
            cursor.execute(read_sql, read_params)
            row = cursor.fetchone()
        value = None if row is None else row[0]
        tail = {"row_count": 0 if value is None else 1}
        tail["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
        event = chain_append({**body, **tail}, using=using)
        return value, event if return_event else None
    head = orjson.dumps(body).decode()[:-1] + ',"row_count":'
    with connection.cursor() as cursor:
        elapsed_ms = (time.perf_counter() - started) * 1000
        appended, value = _run_fast(
            cursor, _read_and_append(read_sql), [*read_params, head, elapsed_ms, occurred_at]
        )
    value = value or None  # row_to_json never gives an empty text: "" is "no row"
    return value, _event(body, appended, using) if return_event else None
