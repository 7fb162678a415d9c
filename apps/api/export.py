"""Streaming exports in constant memory.

When every output column is masked in SQL (the usual case), PostgreSQL itself formats the rows
with COPY ... TO STDOUT (CSV, or one JSON object per line), and a reader thread hands bounded
chunks to the response: memory stays flat and the speed is close to COPY's. When a column needs
Python (the `hash` rule), rows come from a server-side cursor inside a transaction instead.

CSV lines end with LF, as COPY writes them, the header included. The response counts the rows
it hands to the web server and, once the stream has ended (complete, failed, or closed early
because the client went away), tells the caller how many and how it ended (`on_end`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import logging
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg2
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.http import StreamingHttpResponse
from psycopg2 import sql

from apps.records.query import RecordQuery, export_statement
from apps.records.query_json import csv_columns, json_columns
from apps.records.reads import records_iter
from govdata.vocabulary import DataType

BOM = "\ufeff".encode()
CHUNK = 256 * 1024
QUEUE_CHUNKS = 8  # at most ~2 MiB in flight per export
logger = logging.getLogger(__name__)
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}
_DONE = object()


class _Cancelled(Exception):
    pass


@dataclass
class Sent:
    """Rows handed to the web server so far (counted as each chunk is handed over, so the
    rows of the last chunk may not all have reached a client that went away)."""

    rows: int = 0


@dataclass(frozen=True)
class ExportEnd:
    """How an export's stream ended: `rows` sent (as Sent counts them), `complete`, and when
    not, `cause`: CLIENT_GONE or the class name of the error that ended it (never its
    message, which may quote a value)."""

    rows: int
    complete: bool
    cause: str = ""


CLIENT_GONE = "client gone"


class _ChunkWriter:
    """The file object COPY writes to: batches rows into chunks and blocks when the consumer
    is behind (back-pressure reaches PostgreSQL through the socket). psycopg2 writes each row
    COPY sends with one call (libpq's PQgetCopyData returns whole rows), so the calls count
    the rows: each chunk goes out as (bytes, number of rows).

    `write` runs once per row on the export's hot path, with the reader threads of one export
    sharing the GIL: it only keeps the row (bytes: psycopg2 writes str only to text files,
    which this is not) and its size. Copying each row into a growing buffer and type-checking
    it cost 0.12-0.15 s of CPU more per million rows."""

    def __init__(self, out: queue.Queue, stop: threading.Event) -> None:
        self.out, self.stop = out, stop
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> None:
        self.parts.append(data)
        self.size += len(data)
        if self.size >= CHUNK:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        chunk = (b"".join(self.parts), len(self.parts))
        self.parts, self.size = [], 0
        while True:
            if self.stop.is_set():
                raise _Cancelled
            try:
                self.out.put(chunk, timeout=0.5)
                return
            except queue.Full:
                continue


def _copy_sql(query: RecordQuery, fmt: str, pages: tuple[int, int | None] | None = None) -> str:
    if fmt == "ndjson":
        pairs = []
        for name, expr in json_columns(query):
            pairs.extend([sql.Literal(name), expr])
        select = sql.SQL("SELECT json_build_object({})::text").format(sql.SQL(", ").join(pairs))
        statement, params = export_statement(query, select=select, pages=pages)
        # CSV with a delimiter and quote JSON can never contain raw: the lines come out verbatim.
        options = sql.SQL("(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')")
    else:
        select = sql.SQL("SELECT ") + sql.SQL(", ").join(csv_columns(query))
        statement, params = export_statement(query, select=select, pages=pages)
        options = sql.SQL("(FORMAT csv)")
    copy = sql.SQL("COPY ({}) TO STDOUT WITH {}").format(statement, options)
    connection.ensure_connection()
    raw = connection.connection.cursor()
    try:
        return raw.mogrify(copy, params).decode()
    finally:
        raw.close()


def _csv_writer(buffer: io.StringIO):
    """Python's CSV with COPY's line ending (LF), so that every line of an export ends alike."""
    return csv.writer(buffer, lineterminator="\n")


def _header(query: RecordQuery) -> bytes:
    buffer = io.StringIO()
    _csv_writer(buffer).writerow(query.columns)
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


# Split exports a process runs at once: past this, exports are read over one connection, so
# that a burst of exports cannot take every database connection (or a pooler's whole pool).
_split_exports = threading.BoundedSemaphore(2)


def _open_extra(count: int) -> list[Any]:
    """`count` connections of their own, each in a read-only REPEATABLE READ transaction that
    has not yet taken its snapshot; an empty list if they cannot all be opened
    (max_connections reached, say)."""
    wrappers: list[Any] = []
    try:
        for _ in range(count):
            wrapper = connections.create_connection(DEFAULT_DB_ALIAS)
            wrappers.append(wrapper)
            wrapper.ensure_connection()
            with wrapper.connection.cursor() as cur:
                cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    except (DatabaseError, psycopg2.Error) as exc:
        logger.warning("Export read over one connection: %s", exc)
        _close(wrappers)
        return []
    return wrappers


def _join_snapshot(wrappers: list[Any], snapshot: str, table: sql.Composable) -> bool:
    """Give every extra connection the first one's snapshot and the table's share lock, or
    tell that one could not have it at once. NOWAIT: a change waiting for the first
    connection's lock (a publish) queues every later share lock behind it, and the first
    connection only lets go once the parts are done: waiting here would never end."""
    try:
        for wrapper in wrappers:
            with wrapper.connection.cursor() as cur:
                cur.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
                cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE NOWAIT").format(table))
    except (DatabaseError, psycopg2.Error) as exc:
        logger.warning("Export read over one connection: %s", exc)
        return False
    return True


def _close(wrappers: list[Any]) -> None:
    """Close the extra connections (ending their read-only transactions)."""
    for wrapper in wrappers:
        wrapper.close()


def _pump(statement: str, raw, chunks: queue.Queue, stop, gone, failure: list) -> None:
    """COPY `statement` over the psycopg2 connection `raw` into `chunks`, then a _DONE
    marker, which is always delivered unless the response is `gone` (else the response
    would wait for it for ever). A failed part sets `stop`, so that the others end too."""
    writer = _ChunkWriter(chunks, stop)
    try:
        with raw.cursor() as cur:
            cur.copy_expert(statement, writer, size=CHUNK)
        writer.flush()
    except BaseException as exc:  # noqa: BLE001 - handed to the response thread
        failure.append(exc)
        stop.set()
    finally:
        while not gone.is_set():
            try:
                chunks.put(_DONE, timeout=0.5)
                break
            except queue.Full:
                continue


def _sources(query: RecordQuery, fmt: str, raw) -> tuple[list[tuple[str, Any]], list[Any], bool]:
    """(statement, psycopg2 connection) of each part, the extra connections opened (they
    hold one of the process's split-export slots: close them, then release it), and whether
    `raw` was left in a read-only transaction holding the snapshot (to commit)."""
    ranges = _page_ranges(query)
    if ranges is None or not _split_exports.acquire(blocking=False):
        return [(_copy_sql(query, fmt), raw)], [], False
    extra: list[Any] = []
    try:
        statements = [_copy_sql(query, fmt, pages) for pages in ranges]
        extra = _open_extra(len(ranges) - 1)
        if extra:
            with raw.cursor() as cur:
                # The lock before the snapshot: a publish (which swaps the table) waits for
                # the export instead of slipping in before a part's first read, where the
                # part would find the new table and none of its rows in the snapshot.
                cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS SHARE MODE").format(query.table))
                cur.execute("SELECT pg_export_snapshot()")
                snapshot = cur.fetchone()[0]
            joined = _join_snapshot(extra, snapshot, query.table)
    except BaseException:
        _close(extra)
        _split_exports.release()
        raise
    if not extra:
        _split_exports.release()
        return [(_copy_sql(query, fmt), raw)], [], False
    if not joined:
        _close(extra)
        _split_exports.release()
        # Still in the snapshot's transaction: one consistent read all the same.
        return [(_copy_sql(query, fmt), raw)], [], True
    raws = [raw] + [wrapper.connection for wrapper in extra]
    return list(zip(statements, raws, strict=True)), extra, True


def stream_parts(sources: list[tuple[str, Any]], sent: Sent | None = None) -> Iterator[bytes]:
    """The output of several COPY ... TO STDOUT statements, each over its own psycopg2
    connection (`sources`: (statement, connection) pairs) and read by a thread of its own,
    in chunks as they come, adding the rows of each chunk to `sent` as it is handed over. If a
    part fails, the others stop and the error is raised here; if the consumer goes away, every
    part stops (its COPY is cancelled on the server); either way the caller's connections may
    be mid-protocol and should be closed."""
    sent = sent if sent is not None else Sent()
    chunks: queue.Queue = queue.Queue(maxsize=QUEUE_CHUNKS)
    stop, gone = threading.Event(), threading.Event()
    failure: list[BaseException] = []
    threads = [
        threading.Thread(
            target=_pump,
            args=(statement, raw, chunks, stop, gone, failure),
            name="export-copy",
            daemon=True,
        )
        for statement, raw in sources
    ]
    finished = False
    try:
        for thread in threads:
            thread.start()
        remaining = len(threads)
        while remaining:
            item = chunks.get()
            if item is _DONE:
                remaining -= 1
                if failure:
                    raise failure[0]
                continue
            chunk, rows = item
            sent.rows += rows
            yield chunk
        for thread in threads:
            thread.join()
        finished = True
    finally:
        if not finished:
            gone.set()
            stop.set()
            for _statement, raw in sources:  # a COPY waiting on the server stops now
                with contextlib.suppress(Exception):
                    raw.cancel()
            while any(thread.is_alive() for thread in threads):
                with contextlib.suppress(queue.Empty):
                    chunks.get(timeout=0.5)


def _stream_copy(query: RecordQuery, fmt: str, sent: Sent) -> Iterator[bytes]:
    """COPY into the response; a large unordered export is read in parts over several
    connections at once (one core each), all in one snapshot, each chunk holding whole rows
    of one part."""
    extra: list[Any] = []
    finished = False
    try:
        if fmt == "csv":
            yield BOM + _header(query)
        connection.ensure_connection()
        raw = connection.connection
        sources, extra, snapshot_opened = _sources(query, fmt, raw)
        yield from stream_parts(sources, sent)
        if snapshot_opened:
            with raw.cursor() as cur:
                cur.execute("COMMIT")  # the snapshot's read-only transaction
        finished = True
    finally:
        if not finished:
            # An interrupted COPY leaves the session mid-protocol: start afresh next time.
            connection.close()
        if extra:
            _close(extra)
            _split_exports.release()


def _csv_texts(query: RecordQuery) -> dict[int, Callable[[Any], str]]:
    """Per column position, how the Python path writes a value so that it reads as the COPY
    path writes it (apps.records.query_json.csv_columns): booleans true/false, date-times in
    ISO 8601 (UTC, as the database connection returns them)."""
    texts: dict[int, Callable[[Any], str]] = {}
    for position, name in enumerate(query.columns):
        masked = position in query.python_maskers
        if masked or not isinstance(query.select[position], sql.Identifier):
            continue  # a masked value is text (or a year) already
        data_type = query.data_types[name]
        if data_type == DataType.BOOLEAN:
            texts[position] = lambda value: "true" if value else "false"
        elif data_type == DataType.DATETIME:
            texts[position] = lambda value: value.isoformat()
    return texts


def _stream_rows(query: RecordQuery, fmt: str, sent: Sent) -> Iterator[bytes]:
    names = query.columns
    with transaction.atomic():
        rows = records_iter(query=query)
        pending = 0  # rows in the chunk being built
        if fmt == "csv":
            buffer = io.StringIO()
            writer = _csv_writer(buffer)
            as_text = _csv_texts(query)
            yield BOM + _header(query)
            for row in rows:
                if as_text:
                    row = [as_text[i](v) if i in as_text and v is not None else v
                           for i, v in enumerate(row)]  # fmt: skip
                writer.writerow(row)
                pending += 1
                if pending == 2000:
                    sent.rows += pending
                    yield buffer.getvalue().encode()
                    buffer.seek(0)
                    buffer.truncate()
                    pending = 0
            sent.rows += pending
            yield buffer.getvalue().encode()
            return
        out = bytearray()
        for row in rows:
            out += orjson.dumps(dict(zip(names, row, strict=True)), default=str)
            out += b"\n"
            pending += 1
            if len(out) >= CHUNK:
                sent.rows += pending
                yield bytes(out)
                out.clear()
                pending = 0
        sent.rows += pending
        yield bytes(out)


class _EndReported:
    """The response's content: the chunks of `stream`, then `on_end` called exactly once
    when the stream has ended, whether it ran to the end, failed (the error is raised on
    after the call) or was closed before its end (the web server closes the response when
    the client has gone away, even before the first chunk). An error of `on_end` itself is
    logged and raised: the data has left, but the missing end must not go unnoticed."""

    def __init__(
        self,
        stream: Generator[bytes, None, None],
        sent: Sent,
        on_end: Callable[[ExportEnd], None],
    ) -> None:
        self._stream, self._sent, self._on_end = stream, sent, on_end
        self._ended = False

    def __iter__(self) -> _EndReported:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._stream)
        except StopIteration:
            self._end(complete=True, cause="")
            raise
        except BaseException as exc:
            self._end(complete=False, cause=type(exc).__name__)
            raise

    def close(self) -> None:
        if self._ended:
            return
        try:
            self._stream.close()  # the stream's own clean-up first: COPY cancelled, and so on
        finally:
            self._end(complete=False, cause=CLIENT_GONE)

    def _end(self, *, complete: bool, cause: str) -> None:
        if self._ended:
            return
        self._ended = True
        try:
            self._on_end(ExportEnd(rows=self._sent.rows, complete=complete, cause=cause))
        except Exception:
            logger.exception("The end of an export could not be recorded")
            raise


def export_response(
    *,
    query: RecordQuery,
    fmt: str,
    filename: str,
    on_end: Callable[[ExportEnd], None] | None = None,
) -> StreamingHttpResponse:
    """The streaming response of the export of `query`; `on_end` (if given) is told once how
    the stream ended and how many rows were sent."""
    stream = _stream_rows if query.python_maskers else _stream_copy
    sent = Sent()
    chunks = stream(query, fmt, sent)
    content = chunks if on_end is None else _EndReported(chunks, sent, on_end)
    response = StreamingHttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
