"""The end of a sync run: the staging table checked for duplicate keys (and indexed, for a
full run), then published in one transaction with the run's counts, status, watermark and its
audit event (apps.sync.recording)."""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, ProgrammingError, connection, transaction
from django.utils.translation import gettext_noop
from psycopg2 import sql

from apps.common import clock
from apps.common.texts import Text
from apps.records import store
from apps.sync.models import SyncConfig, SyncRejection, SyncRun
from apps.sync.recording import record_run_published
from apps.sync.runstate import SyncFailed, fault_point, save_run, staging_name

# The swap needs an exclusive lock on the live table for a moment. If a long export holds it,
# give up after this long rather than queue every API reader behind us; the task retries.
PUBLISH_LOCK_TIMEOUT = "10s"


def index_staging(run: SyncRun, cursor, staging: str, key: str, max_stored: int) -> None:
    try:
        with transaction.atomic():
            store.add_key_index(cursor, staging, key)
    except IntegrityError:
        check_duplicates(run, cursor, staging, key, max_stored)


# Stored as the reason of each quarantined duplicate row, untranslated (labels.rejection_reason).
DUPLICATE_REASON = gettext_noop("duplicate key: rows %(rows)s have the same key")
_ROWS_PARAM = "%(rows)s"
_ROWS_SHOWN = 10  # of one key, in a quarantined row's reason


def check_duplicates(run: SyncRun, cursor, staging: str, key: str, max_stored: int) -> None:
    """Refuse a staging table with duplicate keys. The error names row numbers only: it is
    shown to everyone who sees the run, auditors included, and keys are often ID numbers. The
    keys go to the quarantine report, which only the dataset's officers may read: every row of
    a duplicate key, with the key as its value (as many as the report still has room for)."""
    pairs = store.staging_duplicates(cursor, staging, key)
    if not pairs:
        return
    duplicates, listed = _quarantine_duplicates(run, cursor, staging, key, max_stored)
    run.rows_rejected += duplicates
    run.rejections_listed += listed
    groups = "; ".join(", ".join(str(r) for r in rows) for _key, rows in pairs)
    if duplicates > sum(len(rows) for _key, rows in pairs):
        groups += "; …"
    raise SyncFailed(
        Text(
            gettext_noop(
                "Duplicate keys in the source: %(count)d rows have the same key as another row "
                "(rows with the same key: %(groups)s). Nothing was published; the quarantine "
                "report lists their keys."
            ),
            {"count": duplicates, "groups": groups},
        )
    )


def _quarantine_duplicates(
    run: SyncRun, cursor, staging: str, key: str, max_stored: int
) -> tuple[int, int]:
    """(rows with a duplicate key, of them quarantined): one INSERT ... SELECT, on a failing
    run only."""
    already = SyncRejection.objects.filter(run=run).count()
    meta = SyncRejection._meta
    k, r, t = sql.Identifier(key), sql.Identifier(store.ROW_COLUMN), store.ident(staging)
    duplicated = sql.SQL(
        "SELECT s.{r} AS r, s.{k}::text AS k, count(*) OVER w AS n, "
        "array_to_string((array_agg(s.{r}) OVER w)[1:%(shown)s], ', ') AS rows "
        "FROM {t} s WHERE s.{k} IN (SELECT {k} FROM {t} GROUP BY {k} HAVING count(*) > 1) "
        "WINDOW w AS (PARTITION BY s.{k} ORDER BY s.{r} "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
    ).format(r=r, k=k, t=t)
    cursor.execute(
        sql.SQL(
            "WITH d AS ({duplicated}), "
            "ins AS (INSERT INTO {table} ({run}, {row}, {field}, {reason}, {value}) "
            "SELECT %(run)s, d.r, %(field)s, "
            "replace(%(reason)s, %(param)s, d.rows || CASE WHEN d.n > %(shown)s "
            "THEN ', …' ELSE '' END), d.k "
            "FROM d ORDER BY d.r LIMIT %(room)s RETURNING 1) "
            "SELECT (SELECT count(*) FROM d), (SELECT count(*) FROM ins)"
        ).format(
            duplicated=duplicated,
            table=sql.Identifier(meta.db_table),
            run=sql.Identifier(meta.get_field("run").column),
            row=sql.Identifier(meta.get_field("row_number").column),
            field=sql.Identifier(meta.get_field("field").column),
            reason=sql.Identifier(meta.get_field("reason").column),
            value=sql.Identifier(meta.get_field("value").column),
        ),
        {
            "run": run.pk,
            "field": key,
            "reason": DUPLICATE_REASON,
            "param": _ROWS_PARAM,
            "shown": _ROWS_SHOWN,
            "room": max(0, max_stored - already),
        },
    )
    duplicates, listed = cursor.fetchone()
    return int(duplicates), int(listed)


def removed_because_rejected(cursor, staging: str, live: str, key: str, keys) -> int | None:
    """Of the live records a full run removes (their key is not in staging), those whose key
    was on a rejected row of the source: they were not dropped from the source, their new row
    could not be loaded. `keys`: the rejected rows' keys in normal form (None: too many were
    rejected to keep them; not counted). The cast to the key column's type keeps its index."""
    if keys is None:
        return None
    if not keys:
        return 0
    cursor.execute(
        "SELECT format_type(atttypid, NULL) FROM pg_attribute "
        "WHERE attrelid = to_regclass(%s) AND attname = %s",
        [store.ident(live).as_string(cursor.connection), key],
    )
    found = cursor.fetchone()
    if found is None:
        return None
    k = sql.Identifier(key)
    cursor.execute(
        sql.SQL(
            "SELECT count(*) FROM {l} l WHERE l.{k} = ANY(%s::text[]::{type}[]) "
            "AND NOT EXISTS (SELECT FROM {s} s WHERE s.{k} = l.{k})"
        ).format(l=store.ident(live), s=store.ident(staging), k=k, type=sql.SQL(found[0])),
        [list(set(keys))],
    )
    return int(cursor.fetchone()[0])


def _full_counts(
    run: SyncRun, cursor, staging: str, live: str, columns, key: str, rejected_keys
) -> tuple[int, int, int]:
    """(inserted, updated, removed) of a full run, and run.rows_removed_rejected. Into an
    empty table (a first load) every staged row is new: no need to join a million rows against
    nothing. When a field's type or the key changed since the live table was built, its rows
    cannot be compared with the new ones: every stored row counts as removed and every new one
    as inserted."""
    staged = run.rows_read - run.rows_rejected
    run.rows_removed_rejected = 0
    cursor.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(store.ident(live)))
    if not cursor.fetchone()[0]:
        return staged, 0, 0
    if not store.comparable(cursor, staging, live, columns, key):
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(store.ident(live)))
        run.rows_removed_rejected = None  # every record is replaced: nothing to tell apart
        return staged, 0, cursor.fetchone()[0]
    inserted, updated, removed = store.full_diff_counts(
        cursor,
        staging,
        live,
        columns,
        key,
        work_mem=settings.GOVDATA.get("SYNC_COMPARE_WORK_MEM", ""),
    )
    if removed and run.rows_rejected:  # only then: a run without rejections pays nothing
        run.rows_removed_rejected = removed_because_rejected(
            cursor, staging, live, key, rejected_keys
        )
    return inserted, updated, removed


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
            Text(
                gettext_noop(
                    "The stored records no longer match the dataset's fields (the key field "
                    "“%(key)s” or a field's type changed since the last full run). Run a full "
                    "sync first; nothing was published."
                ),
                {"key": key},
            )
        ) from exc


def publish(run: SyncRun, fields, key: str, incremental: bool, high, rejected_keys=None) -> None:
    """Publish the staging table. `rejected_keys`: the keys of the rejected rows of a full run
    (engine._Loader), to tell how many removed records were removed because of them."""
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
                inserted, updated, removed = _full_counts(
                    run, cursor, staging, live, columns, key, rejected_keys
                )
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
        run.finished_at, run.secrets_encrypted = clock.now(), ""
        save_run(
            run,
            "rows_read",
            "rows_rejected",
            "rejections_listed",
            "rows_inserted",
            "rows_updated",
            "rows_removed",
            "rows_removed_rejected",
            "secrets_encrypted",
            "status",
            "phase",
            "progress",
            "finished_at",
            "watermark_after",
        )
        # Last, so that the audit chain's head stays locked only for the commit; if the event
        # cannot be written, nothing of the run is published.
        record_run_published(run=run)
