"""What the officer reads about a run: its phase and progress in words, the uploaded file's
name and the quarantine's reasons. Shared by the admin's pages, the progress JSON that updates
them live and the quarantine report."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from apps.sync.errors import MessageCatalogue
from apps.sync.models import SyncRun
from apps.sync.runstate import MAX_ATTEMPTS

# The engine's phases (apps.sync.engine, apps.sync.publish, apps.sync.services), in run order.
PHASES = {
    "reading": _("Reading the source"),
    "indexing": _("Indexing"),
    "publishing": _("Publishing"),
    "done": _("Done"),
    "failed": _("Failed"),
    "cancelled": _("Cancelled"),
}


def phase_label(phase: str) -> str:
    """The phase in the user's language; an unknown phase as stored, none as an empty string."""
    return str(PHASES.get(phase, phase))


def _fraction_unknown(run: SyncRun) -> bool:
    """Reading a source that cannot tell how much of it is read (a workbook, a query, an API):
    rows come in, the share stays 0 (engine._Loader.flush)."""
    return (
        run.status == SyncRun.Status.RUNNING
        and run.phase == "reading"
        and run.progress == 0
        and run.rows_read > 0
    )


def progress_bar_value(run: SyncRun) -> float | None:
    """How full the bar is: a finished run's bar is full, whatever its last phase reached;
    None (a bar that only moves) while the share read is unknown."""
    if run.status in SyncRun.FINISHED:
        return 1.0
    return None if _fraction_unknown(run) else run.progress


def attempts_label(run: SyncRun) -> str:
    """ "2 of 6" while a run may still be retried: executions so far, of those it gets when
    its source keeps failing; once it has ended, the executions alone ("1 of 6" on a finished
    upload, which is never retried, read as if more were to come)."""
    if run.status in SyncRun.FINISHED:
        return str(run.attempts)
    return gettext("%(attempt)d of %(max)d") % {"attempt": run.attempts, "max": MAX_ATTEMPTS}


def next_attempt_label(run: SyncRun) -> str:
    """When a run waiting to retry is sent again, in the reader's time zone; "" when not
    waiting (or not yet known)."""
    if run.status != SyncRun.Status.RETRYING or run.next_attempt_at is None:
        return ""
    return gettext("attempt %(attempt)d of %(max)d at %(time)s") % {
        "attempt": run.attempts + 1,
        "max": MAX_ATTEMPTS,
        "time": timezone.localtime(run.next_attempt_at).strftime("%H:%M:%S"),
    }


def progress_label(run: SyncRun) -> str:
    """ "45% Reading the source" while running, with the rows read so far once there are
    some (alone when the share is unknown); the status alone once finished; while waiting to
    retry, which attempt comes when; while queued, the status."""
    status = str(run.get_status_display())
    if run.status in SyncRun.FINISHED:
        return status
    if run.status == SyncRun.Status.RETRYING:
        upcoming = next_attempt_label(run)
        return f"{status}: {upcoming}" if upcoming else status
    words = phase_label(run.phase) if run.status == SyncRun.Status.RUNNING and run.phase else status
    if run.status == SyncRun.Status.RUNNING and run.phase == "reading" and run.rows_read:
        read = gettext("%(rows)s rows read") % {"rows": f"{run.rows_read:,}"}
        if _fraction_unknown(run):
            return f"{words} · {read}"
        return f"{run.progress:.0%} {words} · {read}"
    return f"{run.progress:.0%} {words}"


def uploaded_file_name(options: dict) -> str:
    """The name the officer's file had on their computer, never where the server stored it."""
    return str(options.get("original_name") or "")


# Quarantine reasons are stored as their untranslated message (apps.sync.engine.row_errors) and
# translated here, for whoever reads them. Most are a bare msgid; the ones below are stored with
# their parameters filled in, and these patterns find the parameters back. The msgids are
# govdata.validation's and apps.sync.publish's: keep them equal (tests/sync/test_labels.py).
REASONS_WITH_PARAMETERS = [
    gettext_noop("not one of the allowed values (%(values)s)"),
    gettext_noop("duplicate key: rows %(rows)s have the same key"),
]
_REASONS = MessageCatalogue(REASONS_WITH_PARAMETERS)


def rejection_reason(stored: str) -> str:
    """A stored quarantine reason in the active language. A reason stored before reasons were
    kept untranslated, or one the catalogue lacks (a library's own error text), is shown as
    stored."""
    return str(_REASONS.text(stored)) if stored else stored
