"""Server-side verification of the whole chain and every checkpoint. PostgreSQL streams
(seq, time, body, hashes) with COPY; Python only concatenates and hashes bytes, so the
check runs in constant memory at several hundred thousand events per second."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from apps.audit.models import Archive, ChainHead, Checkpoint
from apps.audit.signing import signing_key
from govdata.auditchain import GENESIS_HASH, ChainVerifier, VerifyResult, format_time

# Same rendering as the trigger audit_event_chain() hashes.
TIME_SQL = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
COPY_SQL = (
    "COPY (SELECT seq, " + TIME_SQL + ", body, prev_hash, hash FROM {table} ORDER BY seq) TO STDOUT"
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
) -> None:
    connection = connections[using]
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        cursor.copy_expert(COPY_SQL.format(table=table), _RowSink(on_row), size=1 << 16)


@contextmanager
def snapshot(using: str = DEFAULT_DB_ALIAS):
    """One snapshot for head, checkpoints and events, so that events appended meanwhile are
    neither half-seen nor reported missing. Inside an outer transaction, that one's is used."""
    outermost = not connections[using].in_atomic_block
    with transaction.atomic(using=using):
        if outermost:
            connections[using].cursor().execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"
            )
        yield


def checkpoints_as_dicts(*, using: str = DEFAULT_DB_ALIAS) -> list[dict]:
    return [
        {
            "seq": c.seq,
            "head_hash": c.head_hash,
            "signed_at": format_time(c.signed_at),
            "signature": c.signature,
            "key_id": c.key_id,
        }
        for c in Checkpoint.objects.using(using).order_by("seq", "id")
    ]


def chain_start(*, using: str = DEFAULT_DB_ALIAS) -> tuple[int, str]:
    """Where the chain still in the database begins: after the newest archive, if any."""
    archive = Archive.objects.using(using).order_by("-last_seq").first()
    if archive is None or archive.last_seq is None:
        return 1, GENESIS_HASH
    return archive.last_seq + 1, archive.last_hash


def chain_verify(*, using: str = DEFAULT_DB_ALIAS) -> VerifyResult:
    with snapshot(using):
        head = ChainHead.objects.using(using).filter(pk=1).first()
        start_seq, start_prev = chain_start(using=using)
        verifier = ChainVerifier(
            checkpoints=checkpoints_as_dicts(using=using),
            public_key=signing_key().public_key(),
            start_seq=start_seq,
            start_prev_hash=start_prev,
            expected_last_seq=head.seq if head else None,
        )
        add = verifier.add

        def on_row(seq: int, time: bytes, body: bytes, prev: bytes, digest: bytes) -> None:
            add(seq, b"%d\n%s\n%s" % (seq, time, body), prev, digest)

        stream_events(on_row, using=using)
        return verifier.finish()
