"""The end of a sync run: the staging table checked for duplicate keys (and indexed, for a
full run), then published in one transaction with the run's counts, status, watermark and its
audit event (apps.sync.recording)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils.translation import gettext as _
from psycopg2 import sql

from apps.common import clock
from apps.records import store
from apps.sync.models import SyncConfig, SyncRun
from apps.sync.recording import record_run_published
from apps.sync.runstate import SyncFailed, fault_point, save_run, staging_name

# The swap needs an exclusive lock on the live table for a moment. If a long export holds it,
# give up after this long rather than queue every API reader behind us; the task retries.
PUBLISH_LOCK_TIMEOUT = "10s"


def index_staging(cursor, staging: str, key: str) -> None:
    try:
        with transaction.atomic():
            store.add_key_index(cursor, staging, key)
    except IntegrityError:
        refuse_duplicates(store.staging_duplicates(cursor, staging, key))


def refuse_duplicates(pairs) -> None:
    if not pairs:
        return
    detail = "; ".join(
        _("key %(key)s in rows %(rows)s") % {"key": k, "rows": ", ".join(str(r) for r in rows)}
        for k, rows in pairs
    )
    raise SyncFailed(
        _("Duplicate keys in the source: %(detail)s. Nothing was published.") % {"detail": detail}
    )


def _full_counts(run: SyncRun, cursor, staging: str, live: str, columns, key: str):
    """(inserted, updated, removed) of a full run. Into an empty table (a first load) every
    staged row is new: no need to join a million rows against nothing. When a field's type or
    the key changed since the live table was built, its rows cannot be compared with the new
    ones: every stored row counts as removed and every new one as inserted."""
    staged = run.rows_read - run.rows_rejected
    cursor.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(store.ident(live)))
    if not cursor.fetchone()[0]:
        return staged, 0, 0
    if not store.comparable(cursor, staging, live, columns, key):
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(store.ident(live)))
        return staged, 0, cursor.fetchone()[0]
    return store.full_diff_counts(
        cursor,
        staging,
        live,
        columns,
        key,
        work_mem=settings.GOVDATA.get("SYNC_COMPARE_WORK_MEM", ""),
    )


def _upsert(cursor, staging: str, live: str, columns, key: str) -> tuple[int, int]:
    try:
        return store.staging_upsert(cursor, staging, live, columns, key)
    except ProgrammingError as exc:
        # 42P10: no unique index on the key (the key field changed since the live table was
        # built); 42804: a column of another type (a field's type changed). A full run builds
        # the table again from the dataset's fields.
        if getattr(exc.__cause__, "pgcode", None) not in ("42P10", "42804"):
            raise
        raise SyncFailed(
            _(
                "The stored records no longer match the dataset's fields (the key field "
                "“%(key)s” or a field's type changed since the last full run). Run a full sync "
                "first; nothing was published."
            )
            % {"key": key}
        ) from exc


def publish(run: SyncRun, fields, key: str, incremental: bool, high) -> None:
    dataset = run.dataset
    columns = [f.name for f in fields]
    staging = staging_name(dataset.pk)
    live = store.live_table(dataset.pk)
    run.phase, run.progress = "publishing", 0.96
    save_run(run, "phase", "progress")
    with transaction.atomic():
        with connection.cursor() as cursor:  # before any lock is asked for, the table's included
            cursor.execute("SELECT set_config('lock_timeout', %s, true)", [PUBLISH_LOCK_TIMEOUT])
        # Lock the config row: the watermark read at request time is the one we advance.
        config = SyncConfig.objects.select_for_update().get(pk=run.config_id)
        store.store_ensure_table(dataset)
        with connection.cursor() as cursor:
            if incremental:
                inserted, updated = _upsert(cursor, staging, live, columns, key)
                removed = 0
                store.drop_table(cursor, staging)
            else:
                inserted, updated, removed = _full_counts(run, cursor, staging, live, columns, key)
                store.staging_publish_full(cursor, dataset.pk, staging)
        fault_point("in_publish")
        run.rows_inserted, run.rows_updated, run.rows_removed = inserted, updated, removed
        if high is not None and run.watermark_column:
            mark = high.isoformat() if hasattr(high, "isoformat") else str(high)
            run.watermark_after = mark
            # A column changed since the request started a new window (its value was cleared
            # then): this run's mark belongs to the old column and must not end up in it.
            if config.watermark_column == run.watermark_column:
                config.watermark_value = mark
                config.save(update_fields=["watermark_value", "updated_at"])
        run.status, run.phase, run.progress = SyncRun.Status.SUCCEEDED, "done", 1.0
        run.finished_at = clock.now()
        save_run(
            run,
            "rows_read",
            "rows_rejected",
            "rows_inserted",
            "rows_updated",
            "rows_removed",
            "status",
            "phase",
            "progress",
            "finished_at",
            "watermark_after",
        )
        # Last, so that the audit chain's head stays locked only for the commit; if the event
        # cannot be written, nothing of the run is published.
        record_run_published(run=run)
