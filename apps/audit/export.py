"""NDJSON export of the log: a header, one line per event (sequence, time, body exactly as
hashed, stored hashes), then every checkpoint. govdata/auditchain.py verifies it offline."""

from __future__ import annotations

from typing import BinaryIO

import orjson
from django.db import DEFAULT_DB_ALIAS, connections

from apps.audit.models import ChainHead
from apps.audit.signing import key_id
from apps.audit.verification import chain_start, checkpoints_as_dicts, snapshot, stream_events
from govdata.auditchain import FORMAT, GENESIS_HASH


def _header(*, table: str, using: str) -> dict:
    if table == "audit_event":
        start_seq, start_prev = chain_start(using=using)
        head = ChainHead.objects.using(using).filter(pk=1).first()
        last_seq = head.seq if head else 0
    else:  # one partition being archived: it starts wherever its first event does
        with connections[using].cursor() as cursor:
            cursor.execute(f"SELECT seq, prev_hash FROM {table} ORDER BY seq LIMIT 1")
            start_seq, start_prev = cursor.fetchone() or (1, GENESIS_HASH)
            cursor.execute(f"SELECT max(seq) FROM {table}")
            last_seq = cursor.fetchone()[0] or start_seq - 1
    return {
        "type": "header",
        "format": FORMAT,
        "start_seq": start_seq,
        "start_prev_hash": start_prev,
        "last_seq": last_seq,
        "key_id": key_id(),
    }


def export_write(
    handle: BinaryIO, *, table: str = "audit_event", using: str = DEFAULT_DB_ALIAS
) -> dict:
    """Stream `table` (the whole log, or one partition when archiving) to `handle`, from one
    snapshot so that the header, events and checkpoints agree."""
    dumps = orjson.dumps
    summary = {"events": 0, "last_hash": ""}

    def on_row(seq: int, time: bytes, body: bytes, prev: bytes, digest: bytes) -> None:
        record = {
            "type": "event",
            "seq": seq,
            "time": time.decode(),
            "body": body.decode("utf-8"),
            "prev_hash": prev.decode(),
            "hash": digest.decode(),
        }
        handle.write(dumps(record) + b"\n")
        summary["events"] += 1
        summary["last_hash"] = record["hash"]

    with snapshot(using):
        header = _header(table=table, using=using)
        handle.write(dumps(header) + b"\n")
        stream_events(on_row, table=table, using=using)
        for checkpoint in checkpoints_as_dicts(using=using):
            # A partition's archive leaves out the checkpoints of later events. The whole log
            # keeps them all: one past the head means the log was cut short, which the offline
            # verifier reports as the online one does.
            if table == "audit_event" or checkpoint["seq"] <= header["last_seq"]:
                handle.write(dumps({"type": "checkpoint", **checkpoint}) + b"\n")
    return summary
