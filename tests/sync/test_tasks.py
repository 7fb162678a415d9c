"""apps.sync.tasks on a real Celery worker: a cancelled run's pending retry does nothing, and the
beat entry of the uploads' retention deletes old files."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import time
from pathlib import Path

import pytest
from celery.signals import task_postrun
from django.apps import apps as django_apps
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.common import clock
from apps.sync import engine, tasks
from apps.sync.models import SyncRun
from apps.sync.services import (
    sync_config_set,
    sync_run_cancel,
    sync_run_request,
    sync_upload_store,
)
from tests.sync.helpers import population_rows, write_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("flushable_db")]


def _wait(condition, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def test_a_cancelled_runs_pending_retry_does_nothing_on_a_real_worker(
    world, monkeypatch, celery_worker_live
):
    monkeypatch.setattr(tasks, "backoff_seconds", lambda retries: 4)
    executions: list[int] = []

    def executed(task_id, task, args, **kwargs):
        if task.name == tasks.sync_run_execute.name:
            executions.append(args[0])

    task_postrun.connect(executed, weak=False)
    try:
        sync_config_set(
            dataset=world.dataset,
            kind="sql",
            options={"table": "t"},
            secrets={"url": "mysql://root@127.0.0.1:1/test"},
        )
        run = sync_run_request(dataset=world.dataset, by=world.provider_officer)
        waiting = SyncRun.objects.filter(
            pk=run.pk, status="retrying", next_attempt_at__isnull=False
        )
        _wait(waiting.exists)
        sync_run_cancel(run=run, by=world.provider_officer)
        _wait(lambda: len(executions) >= 2)  # the first attempt, then the retry that fired
    finally:
        task_postrun.disconnect(executed)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.CANCELLED and run.attempts == 1
    assert run.next_attempt_at is None


def test_the_uploads_retention_beat_entry_deletes_old_files_on_a_real_worker(
    world, tmp_path, settings, celery_worker_live
):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import ModelEntry

    from config.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    data = write_csv(tmp_path / "p.csv", population_rows(3)).read_bytes()
    first = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("p.csv", data), enqueue=False
    )
    engine.run_execute(run_id=first.pk)
    second = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("q.csv", data), enqueue=False
    )
    engine.run_execute(run_id=second.pk)
    old, kept = Path(first.options["path"]), Path(second.options["path"])
    then = (clock.now() - dt.timedelta(days=31)).timestamp()
    os.utime(old, (then, then))
    os.utime(kept, (then, then))
    # The entry as migration sync.0006 makes it (a transactional test's flush emptied the table).
    migration = importlib.import_module("apps.sync.migrations.0006_uploads_purge_schedule")
    migration.forward(django_apps, None)
    entry = ModelEntry(PeriodicTask.objects.get(name=migration.NAME), app=app)
    assert entry.schedule.hour == {3} and entry.schedule.minute == {40}
    app.tasks[entry.task].apply_async(entry.args, entry.kwargs, **entry.options)
    _wait(lambda: not old.exists())
    assert kept.exists()  # the latest successful run's file
    _wait(lambda: SyncRun.objects.get(pk=first.pk).upload_deleted_at is not None)
