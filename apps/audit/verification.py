"""Server-side verification of the whole chain and every checkpoint. PostgreSQL streams
(seq, time, body, hashes) with COPY; Python only concatenates and hashes bytes, so the
check runs in constant memory at several hundred thousand events per second."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from apps.audit.models import Archive, ChainHead, Checkpoint
from apps.audit.signing import signing_key
from govdata.auditchain import (
    GENESIS_HASH,
    ChainVerifier,
    VerifyResult,
    format_time,
    signature_ok,
)

# Same rendering as the trigger audit_event_chain() hashes.
TIME_SQL = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
COPY_SQL = (
    "COPY (SELECT seq, " + TIME_SQL + ", body, prev_hash, hash FROM {table}{where}"
    " ORDER BY seq{order}{limit}) TO STDOUT"
)


class _RowSink:
    """psycopg2 calls write() once per COPY row: `seq \\t time \\t body \\t prev \\t hash`."""

    def __init__(self, on_row: Callable[[int, bytes, bytes, bytes, bytes], None]) -> None:
        self.on_row = on_row

    def write(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8")
        seq, time, body, prev, digest = data.rstrip(b"\n").split(b"\t")
        if b"\\" in body:  # COPY text format doubles backslashes; JSON has no raw controls
            body = body.replace(b"\\\\", b"\\")
        self.on_row(int(seq), time, body, prev, digest)


def stream_events(
    on_row: Callable[[int, bytes, bytes, bytes, bytes], None],
    *,
    table: str = "audit_event",
    using: str = DEFAULT_DB_ALIAS,
    from_seq: int | None = None,
    upto: int | None = None,
    after: tuple[int, str] | None = None,
    limit: int | None = None,
) -> None:
    """The events of `table` in sequence order to `on_row`: all of them, or those from
    `from_seq` up to `upto`, after the (seq, time) `after` (a time as TIME_SQL renders it), at
    most `limit`. With a limit, rows sharing a sequence number (an insider's duplicates) are
    ordered by time, so that paging by `after` neither skips nor repeats one."""
    connection = connections[using]
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        bounds = []
        if from_seq is not None:
            bounds.append(f"seq >= {int(from_seq)}")
        if upto is not None:
            bounds.append(f"seq <= {int(upto)}")
        if after is not None:
            position = cursor.mogrify("(seq, occurred_at) > (%s, %s::timestamptz)", after)
            bounds.append(position.decode())
        sql = COPY_SQL.format(
            table=table,
            where=" WHERE " + " AND ".join(bounds) if bounds else "",
            order=", occurred_at" if limit is not None else "",
            limit=f" LIMIT {int(limit)}" if limit is not None else "",
        )
        cursor.copy_expert(sql, _RowSink(on_row), size=1 << 16)


@contextmanager
def snapshot(using: str = DEFAULT_DB_ALIAS, *, read_only: bool = True):
    """One snapshot for head, checkpoints and events, so that events appended meanwhile are
    neither half-seen nor reported missing. Inside an outer transaction, that one's is used.
    An export writes in it (the checkpoint of the head it exports), hence `read_only`."""
    outermost = not connections[using].in_atomic_block
    with transaction.atomic(using=using):
        if outermost:
            connections[using].cursor().execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"
                + (" READ ONLY" if read_only else "")
            )
        yield


def checkpoints_as_dicts(
    *, using: str = DEFAULT_DB_ALIAS, min_seq: int | None = None, max_seq: int | None = None
) -> list[dict]:
    checkpoints = Checkpoint.objects.using(using).order_by("seq", "id")
    if min_seq is not None:
        checkpoints = checkpoints.filter(seq__gte=min_seq)
    if max_seq is not None:
        checkpoints = checkpoints.filter(seq__lte=max_seq)
    return [
        {
            "seq": c.seq,
            "head_hash": c.head_hash,
            "signed_at": format_time(c.signed_at),
            "signature": c.signature,
            "key_id": c.key_id,
        }
        for c in checkpoints
    ]


@dataclass(frozen=True)
class ChainStart:
    """Where the chain still in the database begins, and why an archive row was not believed
    (sequence number, problem) if one was not."""

    seq: int
    prev_hash: str
    problems: tuple[tuple[int, str], ...] = ()


def _lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        yield from handle


def archive_problem(archive: Archive, public_key: Any) -> str | None:
    """Why `archive` cannot be trusted as the end of the archived chain, or None. Its row alone
    proves nothing: audit_archive refuses UPDATE and DELETE, not INSERT, and its signature is
    over the file's digest, not over the row. So the file it names must still be the one
    signed, and its last event the one the row names."""
    path = Path(archive.path)
    digest, last_event = hashlib.sha256(), None
    try:
        for line in _lines(path):
            digest.update(line)
            if line.startswith(b'{"type":"event"'):  # as apps.audit.export writes them
                last_event = line
    except OSError as exc:
        return f"its file {path} cannot be read ({exc.strerror})"
    if digest.hexdigest() != archive.sha256:
        return f"its file {path} is not the one archived (SHA-256 differs)"
    if not signature_ok(public_key, archive.signature, digest.digest()):
        return "its signature is not the platform's"
    try:
        event = json.loads(last_event) if last_event else {}
    except ValueError:
        event = {}
    if (event.get("seq"), event.get("hash")) != (archive.last_seq, archive.last_hash):
        return f"its file ends with event {event.get('seq')}, not with {archive.last_seq}"
    return None


def chain_start(*, using: str = DEFAULT_DB_ALIAS, public_key: Any = None) -> ChainStart:
    """Where the chain still in the database begins: after the newest archive whose signed file
    vouches for it (apps.audit.partitions archives the oldest month first, so it holds every
    event before), else at event 1. Reads the newest archive's file."""
    public_key = public_key or signing_key().public_key()
    problems = []
    archives = Archive.objects.using(using).exclude(last_seq=None).order_by("-last_seq", "-id")
    for archive in archives:
        why = archive_problem(archive, public_key)
        if why is None:
            return ChainStart(archive.last_seq + 1, archive.last_hash, tuple(problems))
        claimed = archive.first_seq if archive.first_seq and archive.first_seq > 0 else 1
        problems.append(
            (
                claimed,
                f"archive {archive.partition} (events {archive.first_seq}..{archive.last_seq})"
                f" is not vouched for: {why}",
            )
        )
    return ChainStart(1, GENESIS_HASH, tuple(problems))


def chain_verify(*, using: str = DEFAULT_DB_ALIAS) -> VerifyResult:
    with snapshot(using):
        head = ChainHead.objects.using(using).filter(pk=1).first()
        public_key = signing_key().public_key()
        start = chain_start(using=using, public_key=public_key)
        verifier = ChainVerifier(
            checkpoints=checkpoints_as_dicts(using=using),
            public_key=public_key,
            start_seq=start.seq,
            start_prev_hash=start.prev_hash,
            expected_last_seq=head.seq if head else None,
        )
        for seq, problem in start.problems:
            verifier.result.fail(seq, problem)
        add = verifier.add

        def on_row(seq: int, time: bytes, body: bytes, prev: bytes, digest: bytes) -> None:
            add(seq, b"%d\n%s\n%s" % (seq, time, body), prev, digest)

        stream_events(on_row, using=using)
        return verifier.finish()
