"""NDJSON export of the log: a signed header, one line per event (sequence, time, body exactly
as hashed, stored hashes), then the checkpoints. govdata/auditchain.py verifies it offline, and
accepts it only when every event in it is vouched for by a signature: so an export of the log
signs a checkpoint of the head it exports (as the beat task does every few minutes), and an
export of part of the log ends at a checkpoint. docs/audit-verification.md describes it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import orjson
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from apps.audit.models import Archive, AuditEvent, ChainHead, Checkpoint
from apps.audit.signing import key_id, sign_hex, signing_key
from apps.audit.verification import chain_start, checkpoints_as_dicts, snapshot, stream_events
from apps.common import clock
from govdata.auditchain import (
    FORMAT,
    GENESIS_HASH,
    checkpoint_signature_ok,
    export_message,
    format_time,
)

CHUNK_EVENTS = 5_000  # per COPY: what one chunk of a streamed export holds in memory


class ExportRangeError(ValueError):
    """The range asked for holds no event of the log."""


@dataclass(frozen=True)
class _Extent:
    start_seq: int
    start_prev_hash: str
    last_seq: int
    upto: int | None  # bound of the events streamed; None: to the end of the table
    checkpoints_upto: int | None


def _event_hash(seq: int, *, using: str) -> str | None:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT hash FROM audit_event WHERE seq = %s", [seq])
        row = cursor.fetchone()
    return row[0] if row else None


def _log_extent(*, using: str, from_seq: int | None, to_seq: int | None) -> _Extent:
    """Which events of the log an export holds. Its end must be vouched for by a checkpoint:
    to the head, the head is signed now (the export then covers what it exports, without
    waiting for the beat); short of it, the export runs on to the first checkpoint at or after
    `to_seq`, signed when that event was the head. Signing an older event now would vouch for
    whatever the database holds today, a re-chained edit included."""
    start = chain_start(using=using)
    head = ChainHead.objects.using(using).filter(pk=1).first()
    head_seq = head.seq if head else 0
    first = start.seq if from_seq is None else max(from_seq, start.seq)
    if from_seq is not None and from_seq > head_seq:
        raise ExportRangeError(_("The log ends at event %(seq)d.") % {"seq": head_seq})
    prev = start.prev_hash
    if first > start.seq:
        # The stored hash of the event before, not the first event's own prev_hash, so that a
        # break just there still shows in the export.
        prev = _event_hash(first - 1, using=using) or _first_prev(first, using=using)
    if to_seq is not None and to_seq < first:
        raise ExportRangeError(_("The range ends before it starts."))
    if to_seq is not None and to_seq < head_seq:
        public_key = signing_key().public_key()
        later = (
            Checkpoint.objects.using(using)
            .filter(seq__gte=max(to_seq, first), seq__lte=head_seq)
            .order_by("seq", "id")
        )
        for checkpoint in later.iterator():
            as_dict = {
                "seq": checkpoint.seq,
                "head_hash": checkpoint.head_hash,
                "signed_at": format_time(checkpoint.signed_at),
                "signature": checkpoint.signature,
            }
            if checkpoint_signature_ok(public_key, as_dict):
                return _Extent(first, prev, checkpoint.seq, checkpoint.seq, checkpoint.seq)
    # To the head. Events beyond it (appended by someone who then moved the head back) are
    # exported too, and so are checkpoints beyond it: the verifier reports either.
    from apps.audit.services import checkpoint_create

    checkpoint_create()  # None when the newest checkpoint already signs this head
    return _Extent(first, prev, head_seq, None, None)


def _first_prev(seq: int, *, using: str) -> str:
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT prev_hash FROM audit_event WHERE seq = %s", [seq])
        row = cursor.fetchone()
    if row is None:
        raise ExportRangeError(f"events {seq - 1} and {seq} are not in the database")
    return row[0]


def _partition_extent(*, table: str, using: str) -> _Extent:
    """One partition being archived starts wherever its first event does; the archive's own
    detached signature (apps.audit.partitions) vouches for every event in it."""
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT seq, prev_hash FROM {table} ORDER BY seq LIMIT 1")
        start_seq, start_prev = cursor.fetchone() or (1, GENESIS_HASH)
        cursor.execute(f"SELECT max(seq) FROM {table}")
        last_seq = cursor.fetchone()[0] or start_seq - 1
    return _Extent(start_seq, start_prev, last_seq, None, last_seq)


def _header(extent: _Extent) -> dict:
    signed_at = format_time(clock.now())
    message = export_message(extent.start_seq, extent.start_prev_hash, extent.last_seq, signed_at)
    return {
        "type": "header",
        "format": FORMAT,
        "start_seq": extent.start_seq,
        "start_prev_hash": extent.start_prev_hash,
        "last_seq": extent.last_seq,
        "key_id": key_id(),
        "signed_at": signed_at,
        "signature": sign_hex(message),
    }


def export_chunks(
    *,
    table: str = "audit_event",
    using: str = DEFAULT_DB_ALIAS,
    from_seq: int | None = None,
    to_seq: int | None = None,
    summary: dict | None = None,
) -> Iterator[bytes]:
    """The export of `table` (the log, or one partition when archiving) as chunks of NDJSON
    lines, from one snapshot so that the header, events and checkpoints agree, in constant
    memory (CHUNK_EVENTS events at a time). For the log, `from_seq` / `to_seq` narrow it
    (_log_extent). `summary`, if given, receives the number of events and the last hash.
    Raises ExportRangeError before the first chunk when the range holds nothing."""
    dumps = orjson.dumps
    summary = {} if summary is None else summary
    summary.update(events=0, last_hash="")
    lines: list[bytes] = []
    position: list[tuple[int, str]] = []  # (seq, time) of the last event exported

    def on_row(seq: int, time: bytes, body: bytes, prev: bytes, digest: bytes) -> None:
        record = {
            "type": "event",
            "seq": seq,
            "time": time.decode(),
            "body": body.decode("utf-8"),
            "prev_hash": prev.decode(),
            "hash": digest.decode(),
        }
        lines.append(dumps(record) + b"\n")
        position[:] = [(seq, record["time"])]
        summary["last_hash"] = record["hash"]

    whole_log = table == "audit_event"
    with snapshot(using, read_only=not whole_log):
        if whole_log:
            extent = _log_extent(using=using, from_seq=from_seq, to_seq=to_seq)
        else:
            extent = _partition_extent(table=table, using=using)
        yield dumps(_header(extent)) + b"\n"
        # The whole log holds every row of the table, so that rows an insider left before the
        # chain's start (or beyond its head) are reported by the verifier, not left out.
        lowest = extent.start_seq if from_seq is not None else None
        while True:
            lines.clear()
            stream_events(
                on_row,
                table=table,
                using=using,
                from_seq=lowest,
                upto=extent.upto,
                after=position[0] if position else None,
                limit=CHUNK_EVENTS,
            )
            if lines:
                summary["events"] += len(lines)
                yield b"".join(lines)
            if len(lines) < CHUNK_EVENTS:
                break
        checkpoints = checkpoints_as_dicts(
            using=using, min_seq=extent.start_seq - 1, max_seq=extent.checkpoints_upto
        )
        for checkpoint in checkpoints:
            yield dumps({"type": "checkpoint", **checkpoint}) + b"\n"


def export_write(
    handle: BinaryIO,
    *,
    table: str = "audit_event",
    using: str = DEFAULT_DB_ALIAS,
    from_seq: int | None = None,
    to_seq: int | None = None,
) -> dict:
    """Write the export of `table` to `handle` (export_chunks); returns how many events it
    holds and the last one's hash."""
    summary: dict = {}
    for chunk in export_chunks(
        table=table, using=using, from_seq=from_seq, to_seq=to_seq, summary=summary
    ):
        handle.write(chunk)
    return summary


def export_range_check(
    *, from_seq: int | None, to_seq: int | None, using: str = DEFAULT_DB_ALIAS
) -> None:
    """Refuse, before anything is streamed, a range that holds no event of the database."""
    head = ChainHead.objects.using(using).filter(pk=1).first()
    head_seq = head.seq if head else 0
    if from_seq is not None and from_seq > head_seq:
        raise ExportRangeError(_("The log ends at event %(seq)d.") % {"seq": head_seq})
    if from_seq is not None and to_seq is not None and to_seq < from_seq:
        raise ExportRangeError(_("The range ends before it starts."))
    archived = Archive.objects.using(using).exclude(last_seq=None).order_by("-last_seq").first()
    if to_seq is not None and archived is not None and to_seq <= archived.last_seq:
        raise ExportRangeError(
            _("Events up to %(seq)d are archived (in AUDIT_ARCHIVE_DIR), not in the database.")
            % {"seq": archived.last_seq}
        )


def seq_range_for_times(
    *, since: dt.datetime | None, until: dt.datetime | None, using: str = DEFAULT_DB_ALIAS
) -> tuple[int | None, int | None]:
    """The first event at or after `since` and the last before `until`: an export of the events
    between them (whatever their time: a few may be chained slightly out of time order)."""
    events = AuditEvent.objects.using(using)
    from_seq = to_seq = None
    if since is not None:
        first = events.filter(occurred_at__gte=since).order_by("seq").values("seq").first()
        if first is None:
            raise ExportRangeError(_("No event was recorded at or after “since”."))
        from_seq = first["seq"]
    if until is not None:
        last = events.filter(occurred_at__lt=until).order_by("-seq").values("seq").first()
        if last is None:
            raise ExportRangeError(_("No event was recorded before “until”."))
        to_seq = last["seq"]
    return from_seq, to_seq
