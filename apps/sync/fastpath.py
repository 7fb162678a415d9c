"""The CSV fast path of a sync run: Arrow reads and validates column-wise, two connections COPY.

On by default (GOVDATA["SYNC_FAST_PATH"], default True); its results are the Python path's
(`engine._load`) row for row: the same accepted rows in the same normal form, the same
quarantine rows and reasons, the same counts, flushes and watermark.

- `arrowfeed` streams the file into a `pyarrow.csv` reader (C++, multithreaded, bounded blocks)
  decoded as the CSV connector decodes it, and notices any shape the two CSV parsers could read
  differently;
- `columns.BatchValidator` validates each batch column by column: vectorised "certainly valid"
  checks, and the Python path's own per-field closures for everything else (once per distinct
  value for the memoised types);
- a row with a failing field goes to `validator.errors(raw)` on its raw values, and the Python
  path's batch flushes are replayed at the same row numbers (`_Replay`), so progress saves and
  the stored quarantine are the Python path's;
- each validated batch is written as CSV (source row number first, NULL as an unquoted empty
  field) and COPied by `copier` over two connections in parallel while the next batch is read.

Whenever Arrow could read the file differently from Python's csv module, or cannot read it at
all, the fast path steps aside: before anything is written, or, when that shows only later in
the file, after undoing what it wrote (staging rows, quarantine, counts). The Python path then
reads the file and reports any problem as always.
"""

from __future__ import annotations

import io
import logging
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from django.conf import settings
from psycopg2 import sql

from apps.records import store
from apps.sync import arrowfeed
from apps.sync.columns import BatchValidator
from apps.sync.copier import copier_for

log = logging.getLogger(__name__)

# Unquoted while no value needs quotes (a delimiter, quote or line break: Arrow refuses the batch
# then, and it is written again with quotes). No value is an empty string (empty is NULL).
_WRITE_PLAIN = pacsv.WriteOptions(include_header=False, batch_size=4096, quoting_style="none")
_WRITE_QUOTED = pacsv.WriteOptions(include_header=False, batch_size=4096)


class _Rewind(Exception):
    """Arrow read (part of) the file differently: undo and let the Python path read it."""


def fast_path_applies(run) -> bool:
    return run.kind == "csv" and bool(settings.GOVDATA.get("SYNC_FAST_PATH", True))


class _Replay:
    """Counts rows in file order as `engine._load` does and flushes the loader at the same rows,
    so progress and the stored quarantine are the Python path's."""

    def __init__(self, loader, cursor, validator) -> None:
        self.loader, self.cursor, self.validator = loader, cursor, validator
        self.accepted = 0  # accepted since the last flush (the Python path's `pending`)
        self.read = 0

    def batch(self, batch: pa.RecordBatch, first_row: int, failed: np.ndarray) -> None:
        from apps.sync.engine import SyncFailed, row_errors, row_unreadable

        loader, size = self.loader, self.loader.batch_rows
        accepted = ~failed
        running = np.cumsum(accepted) + self.accepted
        flushes = np.flatnonzero(accepted & (running % size == 0)).tolist()
        rejected = np.flatnonzero(failed).tolist()
        raws = _rows(batch, rejected)
        r = 0
        for at in [*flushes, None]:
            while r < len(rejected) and (at is None or rejected[r] < at):
                number = first_row + rejected[r]
                errors = row_errors(self.validator, raws[r])
                if not errors:
                    raise SyncFailed(row_unreadable(number))
                loader.reject(number, errors, raws[r])
                r += 1
            if at is not None:
                loader.run.rows_read = self.read + at + 1
                loader.flush(self.cursor)
        self.read += len(failed)
        self.accepted = int(running[-1] % size) if len(running) else self.accepted
        loader.run.rows_read = self.read


def _has_blank_line(batch: pa.RecordBatch) -> bool:
    """A row whose values are all empty: Arrow reads a blank line so, Python's csv skips it."""
    total = np.zeros(batch.num_rows, dtype=np.int64)
    for column in batch.columns:
        total += pc.binary_length(column).to_numpy(zero_copy_only=False)
    return bool((total == 0).any())


def _rows(batch: pa.RecordBatch, indices: list[int]) -> list[list[str]]:
    if not indices:
        return []
    taken = pa.array(indices, pa.int64())
    columns = [batch.column(i).take(taken).to_pylist() for i in range(batch.num_columns)]
    return [list(row) for row in zip(*columns, strict=True)]


def _encode(row_numbers: np.ndarray, values: list[pa.Array], keep: np.ndarray) -> bytes:
    """The accepted rows as CSV for COPY: row number, then the fields; NULL unquoted empty."""
    table = pa.Table.from_arrays(
        [pa.array(row_numbers, pa.int64()), *values], names=[str(i) for i in range(len(values) + 1)]
    )
    if not keep.all():
        table = table.filter(pa.array(keep))
    out = io.BytesIO()
    try:
        pacsv.write_csv(table, out, _WRITE_PLAIN)
    except pa.ArrowInvalid:
        out = io.BytesIO()
        pacsv.write_csv(table, out, _WRITE_QUOTED)
    return out.getvalue()


def _high(column: pa.Array, keep: np.ndarray, high):
    """The largest non-empty raw watermark value among accepted rows (Python str order is code
    point order is UTF-8 byte order, as Arrow compares)."""
    values = column.filter(pa.array(keep)) if not keep.all() else column
    values = values.filter(pc.not_equal(pc.binary_length(values), 0))
    if not len(values):
        return high
    mark = pc.max(values).as_py()
    return mark if high is None or mark > high else high


def _load(run, loader, validator, data, wm_pos, cursor, staging):
    opened = arrowfeed.open_reader(run.options, len(data.columns))
    if opened is None:
        raise _Rewind("the file's encoding or delimiter")
    reader, feed = opened
    copier = None
    try:
        header = _next(reader, feed)
        if header is None or _rows(header, [0])[0] != list(data.columns):
            raise _Rewind("the header reads differently")
        header = header.slice(1)
        copier = copier_for(cursor, staging, loader.copy_columns)
        loader.progress = feed.progress
        check = BatchValidator(validator)
        replay = _Replay(loader, cursor, validator)
        high, row = None, 2
        batch, taken = header, 1
        while batch is not None:
            if _has_blank_line(batch):
                raise _Rewind("a blank line (or a row of empty values)")
            if batch.num_rows:
                values, failed = check.validate(batch)
                keep = ~failed
                numbers = np.arange(row, row + batch.num_rows, dtype=np.int64)
                if keep.any():
                    copier.put(_encode(numbers, values, keep))
                    if wm_pos is not None:
                        high = _high(batch.column(wm_pos), keep, high)
                replay.batch(batch, row, failed)
                row += batch.num_rows
            batch = _next(reader, feed)
            taken += 1
            feed.taken(taken)
        copier.finish()
        log.info(
            "sync run %s: Arrow fast path, COPY over %d connection(s)", run.pk, copier.connections
        )
        return high
    except BaseException as exc:
        if copier is not None:
            copier.abort()
        if isinstance(exc, _Rewind):
            raise
        from apps.sync.engine import SyncFailed

        if isinstance(exc, SyncFailed):
            if feed.drain() is not None:
                raise _Rewind(feed.unsafe) from exc  # a later part of the file was unsafe
            log.info("sync run %s: Arrow fast path stopped (%s)", run.pk, str(exc)[:200])
        raise
    finally:
        _close(reader, feed)


def _close(reader, feed) -> None:
    """Stop the reader: its read-ahead threads see the end of the file and finish."""
    feed.close()
    for _attempt in range(64):
        try:
            reader.read_next_batch()
        except BaseException:  # noqa: BLE001 - StopIteration or a cut-off last row: done
            break


def _next(reader, feed) -> pa.RecordBatch | None:
    try:
        batch = reader.read_next_batch()
    except StopIteration:
        batch = None
    except (pa.ArrowException, arrowfeed.Unsafe, OSError) as exc:
        raise _Rewind(feed.unsafe or str(exc).splitlines()[0][:200]) from None
    if feed.unsafe is not None:
        raise _Rewind(feed.unsafe)
    return batch


def _undo(run, loader, cursor, staging: str) -> None:
    """Back to the state before the load: an empty staging table, no quarantine, no counts."""
    from apps.sync.models import SyncRejection

    cursor.execute(sql.SQL("TRUNCATE {}").format(store.ident(staging)))
    SyncRejection.objects.filter(run=run).delete()
    loader.reset()


def fast_load(*, run, loader, validator, data, wm_pos, cursor, staging: str, columns):
    """Load the run's CSV file through Arrow. Returns (True, high watermark) when done, or
    (False, None) with nothing written when the Python path must read the file instead."""
    if len(data.columns) < 2:  # a blank line is a row to Python, one empty value to Arrow
        return False, None
    started = time.monotonic()
    progress = loader.progress
    try:
        high = _load(run, loader, validator, data, wm_pos, cursor, staging)
    except _Rewind as exc:
        log.info("sync run %s: Python path (%s)", run.pk, str(exc)[:200])
        _undo(run, loader, cursor, staging)
        loader.progress = progress
        return False, None
    log.info(
        "sync run %s: Arrow fast path done in %.2fs, %d rows",
        run.pk,
        time.monotonic() - started,
        run.rows_read,
    )
    return True, high
