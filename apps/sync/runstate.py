"""What every part of a sync run shares: its outcomes as exceptions, the staging table's name,
saving the run's fields, and the fault tests' pause points."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.db import connection

from apps.common.texts import Text
from apps.sync.models import SyncRun

# Executions of a run before it fails for good after source errors: the first and
# apps.sync.tasks' retries (the run page says "attempt n of N").
MAX_SOURCE_RETRIES = 5
MAX_ATTEMPTS = MAX_SOURCE_RETRIES + 1
# Quarantined values kept per run (the report says when it is cut short).
MAX_STORED_REJECTIONS = 20_000


class SyncBusy(Exception):
    """Another run of the same dataset holds the lock."""


class _TextError(Exception):
    """Its message is a Text (message id and parameters), stored so that each reader reads it
    in their language (apps.sync.errors)."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))  # args stay plain text, for Celery to serialise
        self.text = text

    def __str__(self) -> str:
        return str(self.text)


class SyncFailed(_TextError):
    """The run cannot succeed with this input; the message names what and where."""


class SyncInterrupted(_TextError):
    """The database connection broke mid-run; nothing was published, a retry is safe."""


def staging_name(dataset_id: int) -> str:
    return f"d{dataset_id}_sync"


def fault_point(name: str) -> None:
    """Test hook for the fault tests: pause at a named point so the test can SIGKILL the
    process or cut its database connection there. Inert unless the environment asks for it."""
    if os.environ.get("GOVDATA_SYNC_PAUSE_AT") != name:
        return
    marker = Path(os.environ["GOVDATA_SYNC_PAUSE_FILE"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        marker.write_text(f"{os.getpid()} {cursor.fetchone()[0]}")
    deadline = time.monotonic() + 120
    while marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def save_run(run: SyncRun, *fields: str) -> None:
    SyncRun.objects.filter(pk=run.pk).update(**{f: getattr(run, f) for f in fields})
