"""What the officer reads about a run: its phase and progress in words, the uploaded file's
name and the quarantine's reasons. Shared by the admin's pages, the progress JSON that updates
them live and the quarantine report."""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from apps.sync.models import SyncRun

# The engine's phases (apps.sync.engine, apps.sync.publish, apps.sync.services), in run order.
PHASES = {
    "reading": _("Reading the source"),
    "indexing": _("Indexing"),
    "publishing": _("Publishing"),
    "done": _("Done"),
    "failed": _("Failed"),
}


def phase_label(phase: str) -> str:
    """The phase in the user's language; an unknown phase as stored, none as an empty string."""
    return str(PHASES.get(phase, phase))


def progress_bar_value(run: SyncRun) -> float:
    """How full the bar is: a finished run's bar is full, whatever its last phase reached."""
    return 1.0 if run.status in SyncRun.FINISHED else run.progress


def progress_label(run: SyncRun) -> str:
    """ "45% Reading the source" while running; the status alone once finished, or while queued
    or waiting to retry (where the last phase reached says nothing about now)."""
    status = str(run.get_status_display())
    if run.status in SyncRun.FINISHED:
        return status
    words = phase_label(run.phase) if run.status == SyncRun.Status.RUNNING and run.phase else status
    return f"{run.progress:.0%} {words}"


def uploaded_file_name(options: dict) -> str:
    """The name the officer's file had on their computer, never where the server stored it."""
    return str(options.get("original_name") or "")


# Quarantine reasons are stored as their untranslated message (apps.sync.engine.row_errors) and
# translated here, for whoever reads them. Most are a bare msgid; the ones below are stored with
# their parameters filled in, and these patterns find the parameters back. The msgids are
# govdata.validation's: keep them equal (tests/sync/test_labels.py checks).
REASONS_WITH_PARAMETERS = [
    gettext_noop("not one of the allowed values (%(values)s)"),
]
_PARAMETER = re.compile(r"%\((\w+)\)s")


def _reason_pattern(msgid: str) -> re.Pattern[str]:
    parts = _PARAMETER.split(msgid)  # literal, name, literal, name, ..., literal
    return re.compile(
        "".join(re.escape(p) if i % 2 == 0 else f"(?P<{p}>.*)" for i, p in enumerate(parts))
        + r"\Z",
        re.DOTALL,
    )


_REASON_PATTERNS = [(msgid, _reason_pattern(msgid)) for msgid in REASONS_WITH_PARAMETERS]


def rejection_reason(stored: str) -> str:
    """A stored quarantine reason in the active language. A reason stored before reasons were
    kept untranslated, or one the catalogue lacks (a library's own error text), is shown as
    stored."""
    for msgid, pattern in _REASON_PATTERNS:
        found = pattern.match(stored)
        if found:
            return gettext(msgid) % found.groupdict()
    return gettext(stored) if stored else stored
