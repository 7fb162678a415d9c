"""Celery tasks of apps.sync: thin wrappers around the engine and services.

`acks_late` + `reject_on_worker_lost`: a worker killed mid-run leaves the message unacknowledged
and Redis redelivers it (visibility timeout above the time limit, see settings); the engine is
idempotent per run id, so the redelivered task reaches the state of a clean run.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from apps.sync import engine
from apps.sync.errors import error_text
from apps.sync.models import SyncRun
from apps.sync.runstate import MAX_SOURCE_RETRIES
from govdata.connectors import SourceError

log = logging.getLogger(__name__)


def limits(seconds: int) -> dict[str, int]:
    """A task's own hard time limit, with a soft one inside it. Without its own soft limit a
    task inherits CELERY_TASK_SOFT_TIME_LIMIT (about two hours), and Celery refuses to send a
    task whose soft limit is above its hard one: beat could not queue it at all."""
    return {"time_limit": seconds, "soft_time_limit": max(1, seconds - 10)}


# Retries after a source error or a broken connection, not counting busy waits.
MAX_RETRIES = MAX_SOURCE_RETRIES


def backoff_seconds(retries: int) -> int:
    return min(600, 15 * 2**retries)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # Celery's own limit counts every retry, busy waits included, and a retry's max_retries=None
    # falls back to this; the task counts its source failures itself instead.
    max_retries=None,
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
)
def sync_run_execute(self, run_id: int, source_failures: int = 0) -> str:
    """Execute a run. `source_failures` travels with the retries: `self.request.retries` also
    counts the waits for a busy dataset, which must not use up the run's attempts nor
    lengthen its backoff."""
    try:
        run = engine.run_execute(run_id=run_id)
    except engine.SyncBusy as exc:
        # Another worker holds the dataset: wait for it rather than running twice.
        raise self.retry(
            exc=exc, countdown=30, kwargs={"source_failures": source_failures}
        ) from None
    except (SourceError, engine.SyncInterrupted) as exc:
        from apps.sync.services import sync_run_fail, sync_run_next_attempt_set

        if source_failures >= MAX_RETRIES:
            sync_run_fail(run=SyncRun.objects.get(pk=run_id), reason=error_text(exc))
            return SyncRun.Status.FAILED
        countdown = backoff_seconds(source_failures)
        sync_run_next_attempt_set(run_id=run_id, seconds=countdown)
        raise self.retry(
            exc=exc, countdown=countdown, kwargs={"source_failures": source_failures + 1}
        ) from None
    return run.status


@shared_task(acks_late=True, reject_on_worker_lost=True, **limits(120))
def sync_dataset_scheduled(dataset_id: int) -> int | None:
    """Beat entry of one dataset: queue a run unless one is already active."""
    from apps.catalog.models import Dataset
    from apps.sync.services import SyncAlreadyActive, sync_run_request

    try:
        run = sync_run_request(
            dataset=Dataset.objects.get(pk=dataset_id), trigger=SyncRun.Trigger.SCHEDULE
        )
    except (SyncAlreadyActive, Dataset.DoesNotExist) as exc:
        log.info("scheduled sync of dataset %s skipped: %s", dataset_id, exc)
        return None
    return run.pk


@shared_task(**limits(600))
def sync_schedules_reconcile() -> int:
    from apps.sync.schedules import sync_schedules_reconcile as reconcile

    return reconcile()


@shared_task(**limits(300))
def sync_runs_requeue_stale() -> int:
    from apps.sync.services import sync_runs_requeue_stale as requeue

    return len(requeue())


@shared_task(**limits(600))
def sync_uploads_purge() -> int:
    """Beat entry (migration sync.0006): uploaded files past their retention."""
    from apps.sync.services import sync_uploads_purge as purge

    return len(purge())
