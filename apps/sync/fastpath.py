"""The CSV fast path of a sync run: PostgreSQL parses and validates, Python only decides the rest.

Off by default (GOVDATA["SYNC_SQL_FAST_PATH"]): its results are the Python path's, but on the
1M-row benchmark it was not faster (docs/benchmark-notes.md, "Sync").

The file is COPied as it is (CSV, one text column per header column, the record number from an
identity column) into an UNLOGGED raw table; one INSERT ... SELECT (fastpath_sql.py) then converts
every row whose values the SQL helpers (migration 0002) can *accept* with certainty, or whose
low-cardinality values the Python validator accepted once per distinct value, into the typed
staging table.
Those helpers accept only a strict subset of what the Python validator accepts, producing the
same normal form; every other row ("unsure": invalid, or merely unusual such as full-width digits
or spaces inside a date) is read back in row order and put through the very same `RowValidator`
as the Python path, so its acceptance, normal form and quarantine reasons are the Python path's by
construction. The batch flushes of the Python path (and so its early threshold abort, with the
same counts and the same quarantine rows) are replayed at the same row numbers.

The fast path steps aside, before anything is written, whenever PostgreSQL could read the file
differently from Python's csv module: a quote that is not around a whole field, a line holding
only the end-of-data marker, rows of another width than the header, a blank line, a decoding error
or any other COPY error. The Python path then reads the file and reports the problem as always.
"""

from __future__ import annotations

import codecs
import csv
import logging
import re
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils.translation import gettext as _
from psycopg2 import sql

from apps.records import store
from apps.sync.fastpath_sql import insert_sure
from govdata.connectors.csvfile import detect_encoding

log = logging.getLogger(__name__)

CHUNK_BYTES = 4 << 20
FIELD_LIMIT = csv.field_size_limit()  # as set by the CSV connector (imported above)
PAGE_ROWS = 5_000
MAX_PENDING_CHECK = 64 << 20  # an unclosed quote this long: let the Python path report it


class _Unsafe(Exception):
    """The file may parse differently in PostgreSQL than in Python: use the Python path."""


def fast_path_applies(run) -> bool:
    # Off unless GOVDATA["SYNC_SQL_FAST_PATH"] is set: measured no faster than the Python path
    # on the 1M-row benchmark (docs/benchmark-notes.md, "Sync"), though its results are the same.
    if run.kind != "csv" or not settings.GOVDATA.get("SYNC_SQL_FAST_PATH", False):
        return False
    delimiter = run.options.get("delimiter", ",")
    return len(delimiter) == 1 and delimiter.isascii() and delimiter not in '"\\\r\n.\x00'


# --- reading the file into the raw table ---------------------------------------------------------
class _ShapeCheck:
    """Finds CSV that PostgreSQL and Python's csv module (strict) could read differently. Works on
    whole lines cut where the count of quotes so far is even (outside any quoted field)."""

    def __init__(self, delimiter: str, text: bool) -> None:
        conv = (lambda s: s) if text else (lambda s: s.encode("ascii"))
        d = re.escape(delimiter)
        self.quote, self.nl, self.marker = conv('"'), conv("\n"), conv("\x01")
        self.eod = conv("\\.")
        self.token = re.compile(conv(r'"(?:[^"]|"")*"'))
        self.after = re.compile(conv(rf"\x01[^{d}\r\n]"))
        self.eod_line = re.compile(conv(r"(?:^|[\r\n])\\\.(?:[\r\n]|\Z)"))
        self.pending = conv("")

    def feed(self, chunk, final: bool = False) -> None:
        data = self.pending + chunk
        if final:
            self.pending = data[:0]
            self._check(data)
            return
        cut = data.rfind(self.nl) + 1
        while cut and data.count(self.quote, 0, cut) % 2:
            cut = data.rfind(self.nl, 0, cut - 1) + 1
        if not cut:
            if len(data) > MAX_PENDING_CHECK:
                raise _Unsafe("quoted field too long")
            self.pending = data
            return
        self.pending = data[cut:]
        self._check(data[:cut])

    def _check(self, part) -> None:
        if self.eod in part and self.eod_line.search(part):
            raise _Unsafe("end-of-data marker line")
        if self.quote not in part:
            return
        tokens = self.token.sub(self.marker, part)
        if self.quote in tokens:
            raise _Unsafe("quote inside an unquoted field")
        # every quoted field must be a whole field: delimiter, line end or edge on both sides
        if self.after.search(tokens) or self.after.search(tokens[::-1]):
            raise _Unsafe("text before or after a quoted field")


class _Feed:
    """What COPY reads: the file as UTF-8 (decoded by Python's codec unless it is UTF-8 already,
    so decoding is the Python path's), shape-checked on the way."""

    def __init__(self, fh, encoding: str | None, delimiter: str) -> None:
        self.fh = fh
        self.line_bytes = 0  # bytes since the last line break (Python's csv field size limit)
        self.decoder = codecs.getincrementaldecoder(encoding)("strict") if encoding else None
        self.check = _ShapeCheck(delimiter, text=self.decoder is not None)
        self.done = False

    def read(self, size: int = -1) -> bytes:
        if self.done:
            return b""
        chunk = self.fh.read(CHUNK_BYTES)
        final = not chunk
        self.done = final
        # Python's csv refuses a field over csv.field_size_limit() characters; PostgreSQL does
        # not. A line that long (in bytes, so at least as long in characters) goes to Python.
        first, last = chunk.find(b"\n"), chunk.rfind(b"\n")
        if first < 0:
            self.line_bytes += len(chunk)
        else:
            if self.line_bytes + first > FIELD_LIMIT:
                raise _Unsafe("a line longer than the csv field size limit")
            self.line_bytes = len(chunk) - last - 1
        if self.line_bytes > FIELD_LIMIT:
            raise _Unsafe("a line longer than the csv field size limit")
        if self.decoder is not None:
            text = self.decoder.decode(chunk, final=final)
            self.check.feed(text, final)
            return text.encode("utf-8")
        self.check.feed(chunk, final)
        return chunk


def _python_encoding(run, path) -> str:
    """The encoding the CSV connector reads the file with (same rules)."""
    encoding = run.options.get("encoding") or detect_encoding(path)
    if encoding.lower().replace("-", "") == "utf8":
        encoding = "utf-8-sig"
    return encoding


def _copy_raw(cursor, run, raw_table: str, width: int) -> int:
    from pathlib import Path

    path = Path(run.options["path"])
    encoding = _python_encoding(run, path)
    name = codecs.lookup(encoding).name
    delimiter = run.options.get("delimiter", ",")
    cols = [sql.Identifier(f"c{i}") for i in range(width)]
    store.drop_table(cursor, raw_table)
    cursor.execute(
        sql.SQL(
            "CREATE UNLOGGED TABLE {} (n bigint GENERATED ALWAYS AS IDENTITY, {}) "
            "WITH (autovacuum_enabled = false)"
        ).format(
            store.ident(raw_table), sql.SQL(", ").join(sql.SQL("{} text").format(c) for c in cols)
        )
    )
    raw_cursor = getattr(cursor, "cursor", cursor)
    statement = sql.SQL(
        "COPY {} ({}) FROM STDIN WITH (FORMAT csv, DELIMITER {}, FORCE_NOT_NULL ({}), "
        "ENCODING 'UTF8')"
    ).format(
        store.ident(raw_table),
        sql.SQL(", ").join(cols),
        sql.Literal(delimiter),
        sql.SQL(", ").join(cols),
    )
    with open(path, "rb") as fh:
        if name == "utf-8-sig":
            if fh.read(3) != codecs.BOM_UTF8:
                fh.seek(0)
            feed = _Feed(fh, None, delimiter)
        elif name == "utf-8":
            feed = _Feed(fh, None, delimiter)
        else:
            feed = _Feed(fh, encoding, delimiter)
        raw_cursor.copy_expert(statement.as_string(raw_cursor), feed, size=CHUNK_BYTES)
    cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(store.ident(raw_table)))
    return int(cursor.fetchone()[0])


def _unsure_rows(cursor, raw_table: str, staging: str, width: int):
    """Rows the SQL did not accept, in file order, paged by row number."""
    unsure = f"{raw_table}_unsure"[:63]
    store.drop_table(cursor, unsure)
    cursor.execute(
        sql.SQL(
            "CREATE UNLOGGED TABLE {u} AS SELECT r.* FROM {r} r WHERE r.n > 1 AND NOT EXISTS "
            "(SELECT 1 FROM {s} s WHERE s.{row} = r.n)"
        ).format(
            u=store.ident(unsure),
            r=store.ident(raw_table),
            s=store.ident(staging),
            row=sql.Identifier(store.ROW_COLUMN),
        )
    )
    cursor.execute(sql.SQL("CREATE INDEX ON {} (n)").format(store.ident(unsure)))
    cols = sql.SQL(", ").join(sql.Identifier(f"c{i}") for i in range(width))
    last = 1
    try:
        while True:
            cursor.execute(
                sql.SQL("SELECT n, {} FROM {} WHERE n > %s ORDER BY n LIMIT %s").format(
                    cols, store.ident(unsure)
                ),
                [last, PAGE_ROWS],
            )
            page = cursor.fetchall()
            if not page:
                return
            for row in page:
                yield row[0], list(row[1:])
            last = page[-1][0]
    finally:
        store.drop_table(cursor, unsure)


# --- replaying the Python path's batches ----------------------------------------------------------
class _Replay:
    """Counts rows in file order as `engine._load` does and flushes the loader at the same rows,
    so progress, the early threshold abort and the stored quarantine are the Python path's."""

    def __init__(self, loader, cursor) -> None:
        self.loader, self.cursor = loader, cursor
        self.accepted = 0  # accepted since the last flush (the Python path's `pending`)
        self.read = 0
        self.last = 1  # last row number counted

    def _flush(self) -> None:
        self.loader.run.rows_read = self.read
        self.loader.flush(self.cursor)
        self.accepted = 0

    def sure_until(self, row_number: int) -> None:
        """Count the rows after the last one and before `row_number`: all accepted by SQL."""
        gap = row_number - 1 - self.last
        batch = self.loader.batch_rows
        while gap > 0:
            take = min(gap, batch - self.accepted)
            self.accepted += take
            self.read += take
            gap -= take
            if self.accepted >= batch:
                self._flush()
        self.last = max(self.last, row_number - 1)

    def python_row(self, row_number: int, raw, validator) -> bool:
        from apps.sync.engine import SyncFailed

        self.sure_until(row_number)
        self.read += 1
        self.last = row_number
        line = validator.row(raw, row_number)
        if line is None:
            errors = validator.errors(raw)
            if not errors:
                raise SyncFailed(_("Row %(row)d could not be read.") % {"row": row_number})
            self.loader.reject(row_number, errors)
            return False
        self.loader.buffer.write(line)
        self.loader.pending += 1
        self.accepted += 1
        if self.accepted >= self.loader.batch_rows:
            self._flush()
        return True


def _high_watermark(cursor, raw_table: str, wm_pos: int, rejected: set[int]):
    """The largest non-empty raw watermark value among accepted rows, compared as Python compares
    str (code points = UTF-8 bytes = collation "C")."""
    offset, limit = 0, 64
    while True:
        cursor.execute(
            sql.SQL(
                "SELECT n, {c} FROM {t} WHERE n > 1 AND {c} <> '' "
                'ORDER BY {c} COLLATE "C" DESC, n OFFSET %s LIMIT %s'
            ).format(c=sql.Identifier(f"c{wm_pos}"), t=store.ident(raw_table)),
            [offset, limit],
        )
        page = cursor.fetchall()
        for n, value in page:
            if n not in rejected:
                return value
        if len(page) < limit:
            return None
        offset, limit = offset + limit, limit * 4


def fast_load(*, run, loader, validator, data, wm_pos, cursor, staging: str, columns):
    """Load the run's CSV file through PostgreSQL. Returns (True, high watermark) when done, or
    (False, None) before writing anything when the Python path must read the file instead."""
    header = list(data.columns)
    width = len(header)
    if width < 2:  # a blank line is a row to Python but a NULL value to COPY: not worth it
        return False, None
    raw_table = f"{staging}_raw"[:63]
    started = time.monotonic()
    try:
        try:
            with transaction.atomic():  # a failed COPY must not abort an enclosing transaction
                total = _copy_raw(cursor, run, raw_table, width) - 1
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:  # noqa: BLE001 - any COPY failure: the Python path explains it
            if connection.connection is None or connection.connection.closed:
                raise OperationalError(str(exc)) from exc
            log.info("sync run %s: Python path (%s)", run.pk, str(exc).splitlines()[0][:200])
            return False, None
        cursor.execute(
            sql.SQL("SELECT {} FROM {} WHERE n = 1").format(
                sql.SQL(", ").join(sql.Identifier(f"c{i}") for i in range(width)),
                store.ident(raw_table),
            )
        )
        first = cursor.fetchone()
        if first is None or list(first) != header:
            log.info("sync run %s: Python path (header read differently)", run.pk)
            return False, None
        log.info("sync run %s: SQL fast path, %d rows copied", run.pk, total)
        copied = time.monotonic()
        loader.progress = None
        sure = insert_sure(cursor, validator, raw_table, staging, columns, total) if total else 0
        replay = _Replay(loader, cursor)
        rejected: set[int] = set()
        if sure < total:
            for row_number, raw in _unsure_rows(cursor, raw_table, staging, width):
                if not replay.python_row(row_number, raw, validator):
                    rejected.add(row_number)
        replay.sure_until(total + 2)
        run.rows_read = replay.read
        high = None
        if wm_pos is not None and loader.run.rows_read:
            high = _high_watermark(cursor, raw_table, wm_pos, rejected)
        log.info(
            "sync run %s: copy %.2fs, convert %.2fs, %d rows by SQL, %d by Python",
            run.pk,
            copied - started,
            time.monotonic() - copied,
            sure,
            total - sure,
        )
        return True, high
    finally:
        store.drop_table(cursor, raw_table)
