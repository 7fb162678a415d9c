"""What the officer reads about a run: its phase and progress in words, and the uploaded file's
name. Shared by the admin's pages and the progress JSON that updates them live."""

from __future__ import annotations

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
