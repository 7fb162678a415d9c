"""Streaming exports in constant memory.

When every output column is masked in SQL (the usual case), PostgreSQL itself formats the rows
with COPY ... TO STDOUT (CSV, or one JSON object per line), and a reader thread hands bounded
chunks to the response: memory stays flat and the speed is close to COPY's. When a column needs
Python (the `hash` rule), rows come from a server-side cursor inside a transaction instead.
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

import orjson
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.http import StreamingHttpResponse
from psycopg2 import sql

from apps.records.query import RecordQuery, export_statement, records_iter

BOM = "\ufeff".encode()
CHUNK = 256 * 1024
QUEUE_CHUNKS = 8  # at most ~2 MiB in flight per export
logger = logging.getLogger(__name__)
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
_DONE = object()


class _Cancelled(Exception):
    pass


class _ChunkWriter:
    """The file object COPY writes to: batches rows into chunks and blocks when the consumer
    is behind (back-pressure reaches PostgreSQL through the socket)."""

    def __init__(self, out: queue.Queue, cancelled: threading.Event) -> None:
        self.out, self.cancelled = out, cancelled
        self.buffer = bytearray()

    def write(self, data) -> int:
        self.buffer += data.encode() if isinstance(data, str) else data
        if len(self.buffer) >= CHUNK:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if not self.buffer:
            return
        chunk, self.buffer = bytes(self.buffer), bytearray()
        while True:
            if self.cancelled.is_set():
                raise _Cancelled
            try:
                self.out.put(chunk, timeout=0.5)
                return
            except queue.Full:
                continue


def _copy_sql(query: RecordQuery, fmt: str, pages: tuple[int, int | None] | None = None) -> str:
    if fmt == "ndjson":
        pairs = []
        for name, expr in zip(query.columns, query.select, strict=True):
            pairs.extend([sql.Literal(name), expr])
        select = sql.SQL("SELECT json_build_object({})::text").format(sql.SQL(", ").join(pairs))
        statement, params = export_statement(query, select=select, pages=pages)
        # CSV with a delimiter and quote JSON can never contain raw: the lines come out verbatim.
        options = sql.SQL("(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')")
    else:
        statement, params = export_statement(query, pages=pages)
        options = sql.SQL("(FORMAT csv)")
    copy = sql.SQL("COPY ({}) TO STDOUT WITH {}").format(statement, options)
    connection.ensure_connection()
    raw = connection.connection.cursor()
    try:
        return raw.mogrify(copy, params).decode()
    finally:
        raw.close()


def _header(query: RecordQuery) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(query.columns)
    return buffer.getvalue().encode()


def _page_ranges(query: RecordQuery) -> list[tuple[int, int | None]] | None:
    """How to split an export over several connections: heap page ranges (the last one open,
    so that nothing stored after the size was read is missed), or None to read it whole.
    Only unordered exports of a table big enough to repay the extra connections are split,
    and never inside a transaction (its uncommitted rows are visible on its connection only)."""
    parts = settings.GOVDATA["EXPORT_CONNECTIONS"]
    if parts < 2 or query.ordered or connection.in_atomic_block:
        return None
    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_relation_size(%s::regclass) / current_setting('block_size')::int",
            [query.table.as_string(connection.connection)],
        )
        pages = cur.fetchone()[0]
    if pages < max(settings.GOVDATA["EXPORT_PARALLEL_MIN_PAGES"], parts):
        return None
    bounds = [pages * i // parts for i in range(parts)]
    return [(first, end) for first, end in zip(bounds, [*bounds[1:], None], strict=True)]


def _snapshot_connections(snapshot: str, count: int) -> list[Any]:
    """`count` connections of their own, each reading the data exactly as the export's first
    connection sees it (the snapshot that connection exported), whatever is published
    meanwhile; an empty list if they cannot all be opened (max_connections reached, say):
    the export is then read over the first connection alone."""
    wrappers: list[Any] = []
    try:
        for _ in range(count):
            wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
            wrappers.append(wrapper)
            wrapper.ensure_connection()
            with wrapper.connection.cursor() as cur:
                cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cur.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
    except DatabaseError as exc:
        logger.warning("Export read over one connection: %s", exc)
        _close(wrappers)
        return []
    return wrappers


def _close(wrappers: list[Any]) -> None:
    for wrapper in wrappers:
        wrapper.close()  # ends its read-only transaction too


def _pump(statement: str, raw, chunks: queue.Queue, cancelled, failure: list) -> None:
    """COPY `statement` over the psycopg2 connection `raw` into `chunks`, then a _DONE
    marker."""
    writer = _ChunkWriter(chunks, cancelled)
    try:
        with raw.cursor() as cur:
            cur.copy_expert(statement, writer, size=CHUNK)
        writer.flush()
    except BaseException as exc:  # noqa: BLE001 - handed to the response thread
        failure.append(exc)
        cancelled.set()  # the other parts stop too
    finally:
        while True:
            try:
                chunks.put(_DONE, timeout=0.5)
                break
            except queue.Full:
                if cancelled.is_set():
                    break


def _sources(query: RecordQuery, fmt: str, raw) -> tuple[list[tuple[str, Any]], list[Any], bool]:
    """(statement, psycopg2 connection) of each part, the extra connections opened, and
    whether `raw` was left in a read-only transaction holding the snapshot (to commit)."""
    ranges = _page_ranges(query)
    if ranges is None:
        return [(_copy_sql(query, fmt), raw)], [], False
    statements = [_copy_sql(query, fmt, pages) for pages in ranges]
    with raw.cursor() as cur:
        # The lock before the snapshot: a publish (which swaps the table) waits for the
        # export instead of slipping in between the parts' first reads, where a part would
        # find the new table and none of its rows in the snapshot.
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(query.table))
        cur.execute("SELECT pg_export_snapshot()")
        snapshot = cur.fetchone()[0]
    extra = _snapshot_connections(snapshot, len(ranges) - 1)
    if not extra:  # still in the snapshot's transaction: one consistent read all the same
        return [(_copy_sql(query, fmt), raw)], [], True
    raws = [raw] + [wrapper.connection for wrapper in extra]
    return list(zip(statements, raws, strict=True)), extra, True


def _stream_copy(query: RecordQuery, fmt: str) -> Iterator[bytes]:
    """COPY into the response; a large unordered export is read in parts over several
    connections at once (one core each), all in one snapshot, each chunk holding whole rows
    of one part."""
    chunks: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    cancelled = threading.Event()
    failure: list[BaseException] = []
    threads: list[threading.Thread] = []
    extra: list[Any] = []
    snapshot_opened = finished = False
    try:
        if fmt == "csv":
            yield BOM + _header(query)
        connection.ensure_connection()
        raw = connection.connection
        sources, extra, snapshot_opened = _sources(query, fmt, raw)
        for statement, part_raw in sources:
            threads.append(
                threading.Thread(
                    target=_pump,
                    args=(statement, part_raw, chunks, cancelled, failure),
                    name="export-copy",
                    daemon=True,
                )
            )
            threads[-1].start()
        remaining = len(threads)
        while remaining:
            chunk = chunks.get()
            if chunk is _DONE:
                remaining -= 1
                if failure:
                    raise failure[0]
                continue
            yield chunk
        for thread in threads:
            thread.join()
        if snapshot_opened:
            with raw.cursor() as cur:
                cur.execute("COMMIT")  # the snapshot's read-only transaction
        finished = True
    finally:
        if not finished:
            cancelled.set()
            while any(thread.is_alive() for thread in threads):
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.5)
            # An interrupted COPY leaves the session mid-protocol: start afresh next time.
            connection.close()
        _close(extra)


def _stream_rows(query: RecordQuery, fmt: str) -> Iterator[bytes]:
    names = query.columns
    with transaction.atomic():
        rows = records_iter(query=query)
        buffer = io.StringIO() if fmt == "csv" else None
        if fmt == "csv":
            writer = csv.writer(buffer)
            yield BOM + _header(query)
            for i, row in enumerate(rows, 1):
                writer.writerow(row)
                if i % 2000 == 0:
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
            yield buffer.getvalue().encode()
            return
        out = bytearray()
        for row in rows:
            out += orjson.dumps(dict(zip(names, row, strict=True)), default=str)
            out += b"\n"
            if len(out) >= CHUNK:
                yield bytes(out)
                out.clear()
        yield bytes(out)


def export_response(*, query: RecordQuery, fmt: str, filename: str) -> StreamingHttpResponse:
    stream = _stream_rows if query.python_maskers else _stream_copy
    response = StreamingHttpResponse(stream(query, fmt), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
