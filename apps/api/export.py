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
import queue
import threading
from collections.abc import Iterator

import orjson
from django.db import connection, transaction
from django.http import StreamingHttpResponse
from psycopg2 import sql

from apps.records.query import RecordQuery, export_statement, records_iter

BOM = "\ufeff".encode()
CHUNK = 256 * 1024
QUEUE_CHUNKS = 8  # at most ~2 MiB in flight per export
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


def _copy_sql(query: RecordQuery, fmt: str) -> tuple[str, list]:
    if fmt == "ndjson":
        pairs = []
        for name, expr in zip(query.columns, query.select, strict=True):
            pairs.extend([sql.Literal(name), expr])
        select = sql.SQL("SELECT json_build_object({})::text").format(sql.SQL(", ").join(pairs))
        statement, params = export_statement(query, select=select)
        # CSV with a delimiter and quote JSON can never contain raw: the lines come out verbatim.
        options = sql.SQL("(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')")
    else:
        statement, params = export_statement(query)
        options = sql.SQL("(FORMAT csv)")
    copy = sql.SQL("COPY ({}) TO STDOUT WITH {}").format(statement, options)
    connection.ensure_connection()
    raw = connection.connection.cursor()
    try:
        return raw.mogrify(copy, params).decode(), params
    finally:
        raw.close()


def _header(query: RecordQuery) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(query.columns)
    return buffer.getvalue().encode()


def _stream_copy(query: RecordQuery, fmt: str) -> Iterator[bytes]:
    statement, _params = _copy_sql(query, fmt)
    chunks: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    cancelled = threading.Event()
    failure: list[BaseException] = []
    raw = connection.connection

    def pump() -> None:
        writer = _ChunkWriter(chunks, cancelled)
        try:
            with raw.cursor() as cur:
                cur.copy_expert(statement, writer, size=CHUNK)
            writer.flush()
        except BaseException as exc:  # noqa: BLE001 - handed to the response thread
            failure.append(exc)
        finally:
            while True:
                try:
                    chunks.put(_DONE, timeout=0.5)
                    break
                except queue.Full:
                    if cancelled.is_set():
                        break

    thread = threading.Thread(target=pump, name="export-copy", daemon=True)
    finished = False
    try:
        if fmt == "csv":
            yield BOM + _header(query)
        thread.start()
        while True:
            chunk = chunks.get()
            if chunk is _DONE:
                break
            yield chunk
        thread.join()
        if failure:
            raise failure[0]
        finished = True
    finally:
        if not finished:
            cancelled.set()
            while thread.is_alive():
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.5)
            # An interrupted COPY leaves the session mid-protocol: start afresh next time.
            connection.close()


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
