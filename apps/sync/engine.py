"""Executes one sync run: read → validate → COPY into staging → publish in one transaction.

Guarantees (see docs/architecture.md, "Sync"):
- readers see the previous version until the publishing transaction commits; the run's status,
  counts and the new watermark commit in that same transaction, so a run is either published and
  `succeeded` or not published at all;
- everything before the publish is repeatable: the staging table has a fixed name per dataset and
  is recreated, the run's quarantine is cleared, and the run row pins the source (file, watermark
  window), so a re-delivered task after a SIGKILL reaches exactly the state of a clean run;
- one run per dataset at a time, by a PostgreSQL session advisory lock (released by the server
  when the holder's connection dies, so a killed worker never leaves a stale lock).

Reading and validating: CSV files take the Arrow fast path (fastpath.py; GOVDATA["SYNC_FAST_PATH"],
default True), which gives this module's results row for row; other sources, and files Arrow
could read differently, take the Python path (`_load`). Either way the validated rows are COPied
over two connections of their own (copier.py) while reading goes on; rejections, progress and
counts go through `_Loader` on the run's connection.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.common import clock
from apps.common.texts import Text
from apps.records import store
from apps.sync import fastpath
from apps.sync.copier import copier_for
from apps.sync.errors import INTERRUPTED, UNEXPECTED, error_text, in_platform_language
from apps.sync.hosts import source_host_policy
from apps.sync.models import SyncConfig, SyncRejection, SyncRun
from apps.sync.publish import check_duplicates, index_staging, publish
from apps.sync.recording import record_run_failed
from apps.sync.runstate import (  # noqa: F401 - SyncBusy and staging_name are part of the API
    MAX_STORED_REJECTIONS,
    SyncBusy,
    SyncFailed,
    SyncInterrupted,
    fault_point,
    save_run,
    staging_name,
)
from govdata.connectors import SourceError, SourceFormatError, connector_for
from govdata.crypto import secrets_decrypt
from govdata.rows import RowValidator
from govdata.validation import FieldError, FieldSpec

LOCK_NAMESPACE = 0x53594E43  # "SYNC": advisory-lock class id of dataset runs
BATCH_ROWS = 20_000
# Keys of rejected rows kept to count the records a full run removes because their new row
# was rejected (publish.removed_because_rejected); past this many the count is not made.
MAX_REJECTED_KEYS = 100_000


def _try_lock(dataset_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, dataset_id])
        return bool(cursor.fetchone()[0])


def _unlock(dataset_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [LOCK_NAMESPACE, dataset_id])
    except DatabaseError:
        connection.close()  # a dead connection released the lock already


def dataset_lock_free(dataset_id: int) -> bool:
    """True when no run holds the dataset (probes the lock and releases it at once)."""
    if not _try_lock(dataset_id):
        return False
    _unlock(dataset_id)
    return True


def run_execute(*, run_id: int) -> SyncRun:
    """Execute (or resume after a crash) one run. Finished runs are left as they are.

    Executed with translation off, whoever executes it (a Celery worker has no language of its
    own, a request has its user's): every message raised is its message id with parameters,
    stored as such (`error_text`, apps.sync.errors) and translated for whoever reads it, as the
    quarantine reasons are (`row_errors`). The `error` column keeps the platform's language,
    as the audit log records it."""
    with translation.override(None):
        return _run_execute(run_id)


def row_errors(validator: RowValidator, raw: Sequence) -> list[tuple[str, str, str]]:
    """The row's (field, reason, value) triples, each reason as its untranslated message, so
    that the quarantine report can show it in its reader's language
    (apps.sync.labels.rejection_reason)."""
    with translation.override(None):
        return validator.errors(raw)


class dataset_lock:  # noqa: N801 - used as a context manager, like a function
    """`with dataset_lock(dataset_id) as held:` the lock every run of the dataset executes
    under, if free (`held`), released on leaving. Whoever holds it knows that no worker is
    executing a run of the dataset, nor will start one until it is released."""

    def __init__(self, dataset_id: int) -> None:
        self.dataset_id = dataset_id
        self.held = False

    def __enter__(self) -> bool:
        self.held = _try_lock(self.dataset_id)
        return self.held

    def __exit__(self, *exc_info) -> None:
        if self.held:
            _unlock(self.dataset_id)


def _set_error(run: SyncRun, text: Text, limit: int) -> None:
    run.error_text = text.to_json()
    run.error = in_platform_language(text)[:limit]


def _run_execute(run_id: int) -> SyncRun:
    run = SyncRun.objects.select_related("dataset", "config").get(pk=run_id)
    if run.status in SyncRun.FINISHED:
        return run
    if not _try_lock(run.dataset_id):
        raise SyncBusy(_("Another sync of this dataset is running."))
    try:
        run.refresh_from_db()
        # Checked again under the lock: a run cancelled (apps.sync.services.sync_run_cancel,
        # under the same lock) stays cancelled when its pending retry fires.
        if run.status in SyncRun.FINISHED:
            return run
        run.status, run.started_at, run.finished_at = SyncRun.Status.RUNNING, clock.now(), None
        run.attempts += 1
        run.error, run.error_text, run.progress, run.phase = "", None, 0.0, "reading"
        run.next_attempt_at = None
        save_run(
            run, "status", "started_at", "finished_at", "attempts", "error", "error_text",
            "progress", "phase", "next_attempt_at",
        )  # fmt: skip
        SyncRejection.objects.filter(run=run).delete()
        try:
            _execute(run)
        except (SyncFailed, SourceFormatError, FieldError) as exc:
            _finish_failed(run, error_text(exc))
        except (OperationalError, InterfaceError) as exc:
            connection.close()
            run.status, text = SyncRun.Status.RETRYING, Text(INTERRUPTED, {"error": str(exc)})
            _set_error(run, text, 2000)
            try:  # on a fresh connection; if the database is down the retry will tell
                save_run(run, "status", "error", "error_text", "rows_read", "rows_rejected")
            except DatabaseError:
                connection.close()
            raise SyncInterrupted(text) from exc
        except SourceError as exc:
            run.status = SyncRun.Status.RETRYING
            _set_error(run, error_text(exc), 2000)
            save_run(run, "status", "error", "error_text", "rows_read", "rows_rejected")
            _drop_staging(run)
            raise
        except Exception as exc:
            _finish_failed(run, Text(UNEXPECTED, {"error": str(exc)}))
            raise
        return run
    finally:
        _unlock(run.dataset_id)


def _drop_staging(run: SyncRun) -> None:
    try:
        with connection.cursor() as cursor:
            store.drop_table(cursor, staging_name(run.dataset_id))
    except DatabaseError:
        connection.close()


def _finish_failed(run: SyncRun, text: Text) -> None:
    _drop_staging(run)
    run.status, run.finished_at = SyncRun.Status.FAILED, clock.now()
    _set_error(run, text, 4000)
    run.phase, run.secrets_encrypted = "failed", ""
    # The failure and its audit event commit together. If the event cannot be written the run
    # stays active, and sync_runs_requeue_stale sends it again later.
    with transaction.atomic():
        save_run(
            run,
            "status",
            "error",
            "error_text",
            "finished_at",
            "phase",
            "rows_read",
            "rows_rejected",
            "rejections_listed",
            "secrets_encrypted",
        )
        record_run_failed(run=run)


class _Loader:
    """Streams validated rows into the staging table in COPY batches, and rejections into the
    quarantine, updating the run's counts and progress after each batch."""

    def __init__(
        self,
        run: SyncRun,
        columns: Sequence[str],
        threshold: float,
        progress,
        key_of: Callable[[Sequence], str | None] | None = None,
    ) -> None:
        self.run = run
        self.table = staging_name(run.dataset_id)
        self.copy_columns = [store.ROW_COLUMN, *columns]
        self.threshold = threshold
        self.progress = progress
        self.key_of = key_of
        self.buffer = io.StringIO()
        self.pending = 0
        self.batch_rows = int(run.options.get("batch_rows") or BATCH_ROWS)
        self.rejections: list[SyncRejection] = []
        self.stored_rejections = 0
        # Normal-form keys of rejected rows (None once past MAX_REJECTED_KEYS: not counted).
        self.rejected_keys: list[str] | None = []
        self.batches = 0
        self.copier = None  # COPY over other connections while reading on (Python path)

    def reset(self) -> None:
        """Back to nothing read (the fast path stepping aside)."""
        self.rejections, self.stored_rejections, self.batches = [], 0, 0
        self.rejected_keys = []
        self.run.rows_read = self.run.rows_rejected = self.run.rejections_listed = 0
        self.buffer.seek(0)
        self.buffer.truncate()
        self.pending = 0

    def reject(self, row_number: int, errors: list[tuple[str, str, str]], raw: Sequence) -> None:
        """A rejected row (only these pay for what is done here; accepted rows never come)."""
        run = self.run
        run.rows_rejected += 1
        if self.stored_rejections < MAX_STORED_REJECTIONS:
            for name, reason, value in errors:
                self.rejections.append(
                    SyncRejection(
                        run=run, row_number=row_number, field=name, reason=reason, value=value
                    )
                )
            self.stored_rejections += len(errors)
            run.rejections_listed += 1
        keys = self.rejected_keys
        if keys is not None and self.key_of is not None:
            key = self.key_of(raw)
            if key is not None:
                if len(keys) < MAX_REJECTED_KEYS:
                    keys.append(key)
                else:
                    self.rejected_keys = None

    def push(self, cursor) -> None:
        """COPY the buffered rows (or hand them to the copier)."""
        if self.pending:
            if self.copier is not None:
                self.copier.put(self.buffer.getvalue().encode())
            else:
                store.copy_csv(cursor, self.table, self.copy_columns, self.buffer)
            self.buffer.seek(0)
            self.buffer.truncate()
            self.pending = 0

    def flush(self, cursor) -> None:
        self.push(cursor)
        if self.rejections:
            SyncRejection.objects.bulk_create(self.rejections, batch_size=2000)
            self.rejections = []
        self.batches += 1
        if self.batches == 1:
            fault_point("mid_copy")
        run = self.run
        # A source that cannot tell how much of it is read (a workbook, a query, an API) keeps
        # progress at 0: the page shows the rows read instead (labels.progress_label).
        if self.progress is not None:
            run.progress = round(min(0.9, 0.9 * self.progress()), 4)
        save_run(run, "rows_read", "rows_rejected", "rejections_listed", "progress")

    def check_threshold(self) -> None:
        """The limit is on the share of the whole source. Only checked once everything is read:
        no source tells its row count up front, and until the end good rows may still follow
        bad ones closely enough to bring the share under the limit."""
        run = self.run
        if run.rows_read and run.rows_rejected / run.rows_read > self.threshold:
            raise SyncFailed(
                Text(
                    gettext_noop(
                        "%(rejected)d of %(read)d rows (%(share).1f%%) failed validation, more "
                        "than the dataset's limit of %(limit).1f%%; nothing was published. See "
                        "the quarantine report."
                    ),
                    {
                        "rejected": run.rows_rejected,
                        "read": run.rows_read,
                        "share": 100 * run.rows_rejected / run.rows_read,
                        "limit": 100 * self.threshold,
                    },
                )
            )


def _key_reader(validator: RowValidator, key_index: int) -> Callable[[Sequence], str | None]:
    """The normal form of a raw row's key, as the row would have been stored with it; None if
    the key itself is not valid (such a row cannot match a stored record)."""
    position = validator.positions[key_index]
    check = validator.checks[key_index]

    def key_of(raw: Sequence) -> str | None:
        if position is None or position >= len(raw):
            return None
        try:
            return check(raw[position])
        except (FieldError, ValueError, TypeError, AttributeError):
            return None

    return key_of


def _execute(run: SyncRun) -> None:
    dataset = run.dataset
    config: SyncConfig = run.config
    fields = list(dataset.fields.all())
    columns = [f.name for f in fields]
    key = dataset.key_field
    if key not in columns:
        raise SyncFailed(
            Text(
                gettext_noop("The key field “%(key)s” is not a field of the dataset."), {"key": key}
            )
        )
    specs = [
        FieldSpec(f.name, f.data_type, bool(f.required), tuple(f.enum_values or ()), f.label)
        for f in fields
    ]
    incremental = run.mode == "incremental"
    connector = connector_for(
        run.kind,
        options=run.options,
        # The run's own, pinned with its options when it was requested (models.SyncRun).
        secrets=secrets_decrypt(run.secrets_encrypted),
        host_policy=source_host_policy(),
    )
    # The run's own column, not the config's: `since` is a value of this one.
    watermark = run.watermark_column if incremental else ""
    since = run.since or None
    staging = staging_name(dataset.pk)
    run.rows_read = run.rows_rejected = run.rejections_listed = 0
    with connection.cursor() as cursor:
        store.staging_create(cursor, staging, fields, key, unlogged=incremental)
        with connector.open(watermark_column=watermark or None, since=since) as data:
            source_columns = data.columns or (columns if incremental else [])
            validator = RowValidator(specs=specs, source_columns=source_columns, key_field=key)
            wm_pos = _watermark_position(source_columns, run.watermark_column)
            loader = _Loader(
                run,
                columns,
                config.reject_threshold,
                getattr(data, "progress", None),
                key_of=None if incremental else _key_reader(validator, columns.index(key)),
            )
            handled, high = False, None
            if fastpath.fast_path_applies(run):
                handled, high = fastpath.fast_load(
                    run=run,
                    loader=loader,
                    validator=validator,
                    data=data,
                    wm_pos=wm_pos,
                    cursor=cursor,
                    staging=staging,
                    columns=columns,
                )
            if not handled:
                loader.copier = copier_for(cursor, staging, loader.copy_columns)
                try:
                    high = _load(loader, validator, data.rows, wm_pos, cursor)
                    loader.push(cursor)
                    loader.copier.finish()
                except BaseException:
                    loader.copier.abort()
                    raise
                loader.copier = None
            loader.flush(cursor)
        loader.check_threshold()
        fault_point("after_read")
        good = run.rows_read - run.rows_rejected
        if not incremental and good == 0:
            raise SyncFailed(
                Text(
                    gettext_noop(
                        "The source has no valid rows; refusing to replace the dataset with "
                        "nothing."
                    )
                )
            )
        run.phase, run.progress = "indexing", 0.92
        save_run(run, "phase", "progress")
        if incremental:  # the upsert probes the live table's index; staging needs none
            check_duplicates(run, cursor, staging, key, MAX_STORED_REJECTIONS)
        else:
            index_staging(run, cursor, staging, key, MAX_STORED_REJECTIONS)
    fault_point("before_publish")
    publish(run, fields, key, incremental, high, rejected_keys=loader.rejected_keys)


def _watermark_position(columns: Sequence[str], watermark: str) -> int | None:
    if not watermark:
        return None
    try:
        return list(columns).index(watermark)
    except ValueError:
        return None


def _load(loader: _Loader, validator: RowValidator, rows, wm_pos: int | None, cursor):
    """The hot loop. Returns the highest watermark value seen among accepted rows."""
    run = loader.run
    check_row = validator.row
    write = loader.buffer.write
    batch = loader.batch_rows
    high = None
    read = 0
    try:
        for row_number, raw in rows:
            read += 1
            line = check_row(raw, row_number)
            if line is None:
                errors = row_errors(validator, raw)
                if errors:
                    loader.reject(row_number, errors, raw)
                    continue
                raise SyncFailed(row_unreadable(row_number))
            write(line)
            if wm_pos is not None and wm_pos < len(raw):
                mark = raw[wm_pos]
                if mark is not None and mark != "" and (high is None or mark > high):
                    high = mark
            loader.pending += 1
            if loader.pending >= batch:
                run.rows_read = read
                loader.flush(cursor)
    finally:
        # Also when the source fails mid-way: the failed run says how far it got.
        run.rows_read = read
    return high


def row_unreadable(row_number: int) -> Text:
    return Text(gettext_noop("Row %(row)d could not be read."), {"row": row_number})
