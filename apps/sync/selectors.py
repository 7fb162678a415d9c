"""Reads of apps.sync: runs visible to an officer, a run's live progress, the quarantine report."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.common import clock
from apps.common.csv_safety import csv_safe
from apps.sync.errors import error_for_reader
from apps.sync.labels import (
    phase_label,
    progress_bar_value,
    progress_label,
    rejection_reason,
)
from apps.sync.models import SyncConfig, SyncRejection, SyncRun
from apps.sync.permissions import sync_configs_visible, sync_runs_visible
from apps.sync.runstate import MAX_ATTEMPTS, MAX_STORED_REJECTIONS


def sync_configs_for_user(*, user) -> QuerySet[SyncConfig]:
    """The configurations `user` may see (apps.sync.permissions decides which)."""
    return sync_configs_visible(
        user, SyncConfig.objects.select_related("dataset", "dataset__provider")
    )


def sync_runs_for_user(*, user) -> QuerySet[SyncRun]:
    """The runs `user` may see (apps.sync.permissions decides which)."""
    return sync_runs_visible(user, SyncRun.objects.select_related("dataset", "requested_by"))


def sync_runs_requested_within(runs: QuerySet[SyncRun], *, days: int) -> QuerySet[SyncRun]:
    """Of `runs`, those requested in the last `days` days (the runs list's filter and the home
    page's count of failed runs, which links to it: both must select the same rows)."""
    return runs.filter(created_at__gte=clock.now() - dt.timedelta(days=days))


def run_error(*, run: SyncRun, source_text_allowed: bool) -> str:
    """The run's error in the reader's language; what it quotes of the source only when
    `source_text_allowed` (apps.sync.permissions.can_read_source_text decides)."""
    return error_for_reader(
        error_text=run.error_text, error=run.error, source_text_allowed=source_text_allowed
    )


def run_progress(*, run: SyncRun, source_text_allowed: bool) -> dict[str, Any]:
    """What the admin's progress bar polls."""
    duration = run.duration
    return {
        "id": run.pk,
        "status": run.status,
        "status_display": str(run.get_status_display()),
        "phase": run.phase,
        "phase_display": phase_label(run.phase),
        "progress": run.progress,
        "bar": progress_bar_value(run),
        "label": progress_label(run),
        "rows_read": run.rows_read,
        "rows_inserted": run.rows_inserted,
        "rows_updated": run.rows_updated,
        "rows_removed": run.rows_removed,
        "rows_removed_rejected": run.rows_removed_rejected,
        "rows_rejected": run.rows_rejected,
        "rejections_listed": run.rejections_listed,
        "attempts": run.attempts,
        "max_attempts": MAX_ATTEMPTS,
        "next_attempt_at": run.next_attempt_at.isoformat() if run.next_attempt_at else None,
        "duration_seconds": duration.total_seconds() if duration is not None else None,
        "error": run_error(run=run, source_text_allowed=source_text_allowed),
        "finished": run.status in SyncRun.FINISHED,
    }


def quarantine_truncation_note(run: SyncRun) -> str:
    """Says that the report lists only some of the rejected rows, or "" when it lists all."""
    if run.rejections_listed >= run.rows_rejected:
        return ""
    return _(
        "The report lists %(listed)d of the %(rejected)d rejected rows: the platform keeps at "
        "most %(limit)d quarantined values per run."
    ) % {
        "listed": run.rejections_listed,
        "rejected": run.rows_rejected,
        "limit": MAX_STORED_REJECTIONS,
    }


def run_quarantine_csv(*, run: SyncRun) -> Iterator[str]:
    """The quarantine as CSV lines (UTF-8 with BOM for Excel), streamed from the database.
    Made to be opened in a spreadsheet, with values that came from outside (any text typed into
    the source system): every text cell is neutralised against formulas (csv_safe).
    When the report is cut (MAX_STORED_REJECTIONS), its last line says so."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def take() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow([_("row"), _("field"), _("reason"), _("value")])
    yield "\ufeff" + take()
    rows = (
        SyncRejection.objects.filter(run=run)
        .order_by("row_number", "id")
        .values_list("row_number", "field", "reason", "value")
    )
    # Reasons are stored untranslated: translated here, they follow the header's language.
    for number, field, reason, value in rows.iterator(chunk_size=2000):
        writer.writerow(
            (
                number,
                csv_safe(field),
                csv_safe(rejection_reason(reason)),
                csv_safe(value),
            )
        )
        yield take()
    note = quarantine_truncation_note(run)
    if note:
        writer.writerow(("", "", csv_safe(note), ""))
        yield take()
