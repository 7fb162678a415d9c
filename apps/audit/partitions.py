"""Monthly partitions of `audit_event`: created ahead of time, and archived (written to a signed
NDJSON file, then detached and dropped) once they are older than the retention period."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import re
from pathlib import Path

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from apps.common import clock

PARTITION_RE = re.compile(r"^audit_event_(\d{4})(\d{2})$")


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _this_month() -> dt.date:
    """The first day of the current month in UTC, the time zone of the partitions' ranges."""
    return _month_start(clock.now().astimezone(dt.UTC).date())


# Partition DDL locks the whole table, and every audited read waits behind a lock request
# that waits: give up after this long (the beat task tries again) rather than stall the API
# behind a long verification or export.
DDL_LOCK_TIMEOUT = "2s"


@contextlib.contextmanager
def _ddl_lock_timeout(cursor):
    cursor.execute("SELECT current_setting('lock_timeout')")
    before = cursor.fetchone()[0]
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [DDL_LOCK_TIMEOUT])
    yield
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])


def partition_name(month: dt.date) -> str:
    return f"audit_event_{month:%Y%m}"


def partitions_list(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    with connections[using].cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_inherits i
            JOIN pg_class c ON c.oid = i.inhrelid
            JOIN pg_class p ON p.oid = i.inhparent
            WHERE p.relname = 'audit_event' ORDER BY c.relname
            """
        )
        return [row[0] for row in cursor.fetchall()]


def partitions_ensure(*, months_ahead: int = 3, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Create this month's partition and the next `months_ahead`; returns those created.
    A month that already has rows in the default partition is left there (creating the
    partition would require moving them, which the append-only triggers forbid)."""
    existing = set(partitions_list(using=using))
    first = _this_month()
    created = []
    connection = connections[using]
    for offset in range(months_ahead + 1):
        month = _add_months(first, offset)
        name = partition_name(month)
        if name in existing:
            continue
        start, end = month, _add_months(month, 1)
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM audit_event_default"
                " WHERE occurred_at >= %s AND occurred_at < %s)",
                [start, end],
            )
            if cursor.fetchone()[0]:
                continue
            with _ddl_lock_timeout(cursor):
                cursor.execute(
                    f"CREATE TABLE {name} PARTITION OF audit_event"
                    f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
                )
                cursor.execute(
                    f"CREATE TRIGGER audit_partition_no_truncate BEFORE TRUNCATE ON {name}"
                    " FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_truncate()"
                )
        created.append(name)
    return created


def _archive_dir() -> Path:
    path = Path(settings.GOVDATA.get("AUDIT_ARCHIVE_DIR") or settings.MEDIA_ROOT / "audit-archive")
    path.mkdir(parents=True, exist_ok=True)
    return path


def partition_archive(*, name: str, using: str = DEFAULT_DB_ALIAS):
    """Write one month to `<archive dir>/<name>.ndjson` (an export verifiable offline, with a
    detached Ed25519 signature over its SHA-256 in `<name>.ndjson.sig`), record it, then detach
    and drop the partition. Only the oldest partition may go, so the remaining chain still
    starts where the last archive ends."""
    from apps.audit.export import export_write
    from apps.audit.models import Archive
    from apps.audit.signing import signing_key

    if not PARTITION_RE.match(name) or name not in partitions_list(using=using):
        raise ValueError(f"{name!r} is not a monthly partition of audit_event")
    if name != min(p for p in partitions_list(using=using) if PARTITION_RE.match(p)):
        raise ValueError(f"{name!r} is not the oldest partition; archive in order")
    path = _archive_dir() / f"{name}.ndjson"
    with connections[using].cursor() as cursor:
        cursor.execute(f"SELECT min(seq), max(seq) FROM {name}")
        first_seq, last_seq = cursor.fetchone()
        # The chain left in the database must start right after the archive, without a gap.
        # Appends keep each month one run of the chain (apps.audit.chain, migration 0004); a
        # log written before that, or whose times an insider moved, may still interleave.
        cursor.execute(f"SELECT min(seq) FROM audit_event WHERE tableoid <> '{name}'::regclass")
        later = cursor.fetchone()[0]
    if last_seq is not None and later is not None and later < last_seq:
        raise ValueError(
            f"{name!r} cannot be archived alone: event {later} of another partition was chained "
            f"before its event {last_seq}, so the chain left in the database would have a gap"
        )
    tmp = path.with_suffix(f".ndjson.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        summary = export_write(handle, table=name, using=using)
        handle.flush()
        os.fsync(handle.fileno())
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    signature = signing_key().sign(bytes.fromhex(digest)).hex()
    os.replace(tmp, path)
    with open(path.with_suffix(".ndjson.sig"), "w", encoding="ascii") as handle:
        handle.write(signature + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    _fsync_dir(path.parent)  # the file and its signature are on disk before the rows go
    with transaction.atomic(using=using):
        archive = Archive.objects.using(using).create(
            partition=name,
            first_seq=first_seq,
            last_seq=last_seq,
            last_hash=summary["last_hash"],
            path=str(path),
            sha256=digest,
            signature=signature,
            archived_at=clock.now(),
        )
        with connections[using].cursor() as cursor, _ddl_lock_timeout(cursor):
            cursor.execute(f"ALTER TABLE audit_event DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
    return archive


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def partitions_archive_older_than(*, months: int, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    cutoff = partition_name(_add_months(_this_month(), -months))
    archived = []
    for name in partitions_list(using=using):
        if PARTITION_RE.match(name) and name < cutoff:
            partition_archive(name=name, using=using)
            archived.append(name)
    return archived
