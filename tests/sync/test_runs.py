"""One run per dataset at a time, the Celery task on a real worker, and beat schedules."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_celery_beat.models import PeriodicTask

from apps.sync import engine
from apps.sync.models import SyncRun
from apps.sync.schedules import sync_schedules_reconcile, task_name
from apps.sync.services import (
    SyncAlreadyActive,
    sync_config_set,
    sync_run_request,
    sync_upload_store,
)
from tests.sync.helpers import COLUMNS, live_rows, other_connection, population_rows, write_csv


@pytest.mark.django_db
def test_second_request_while_a_run_is_active_is_refused_clearly(world, tmp_path):
    path = write_csv(tmp_path / "a.csv", population_rows(3))
    sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("a.csv", path.read_bytes()), enqueue=False
    )
    with pytest.raises(SyncAlreadyActive, match="already"):
        sync_run_request(dataset=world.dataset, enqueue=False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("flushable_db")
def test_run_waits_while_another_process_holds_the_dataset_lock(world, tmp_path):
    path = write_csv(tmp_path / "a.csv", population_rows(3))
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("a.csv", path.read_bytes()), enqueue=False
    )
    other = other_connection()
    other.cursor().execute(
        "SELECT pg_advisory_lock(%s, %s)", [engine.LOCK_NAMESPACE, world.dataset.pk]
    )
    with pytest.raises(engine.SyncBusy):
        engine.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.QUEUED and live_rows(world.dataset) == []
    other.close()  # the holder goes away: its lock goes with it
    assert engine.run_execute(run_id=run.pk).status == SyncRun.Status.SUCCEEDED


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("flushable_db")
def test_sync_now_runs_on_a_real_celery_worker(world, tmp_path, celery_worker_live):
    rows = population_rows(12)
    path = write_csv(tmp_path / "a.csv", rows)
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("a.csv", path.read_bytes())
    )
    deadline = time.monotonic() + 60
    while run.status not in SyncRun.FINISHED and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert len(live_rows(world.dataset)) == 12 and run.progress == 1.0


@pytest.mark.django_db
def test_schedule_follows_the_update_frequency(world):
    sync_config_set(dataset=world.dataset, kind="http", options={"url": "http://x"})
    task = PeriodicTask.objects.get(name=task_name(world.dataset))
    assert task.crontab.hour != "*" and task.task == "apps.sync.tasks.sync_dataset_scheduled"
    world.dataset.update_frequency = "hourly"
    world.dataset.save()
    sync_schedules_reconcile()
    assert PeriodicTask.objects.get(name=task_name(world.dataset)).crontab.hour == "*"
    world.dataset.update_frequency = "realtime"
    world.dataset.save()
    sync_schedules_reconcile()
    assert PeriodicTask.objects.get(name=task_name(world.dataset)).interval.every == 5
    world.dataset.update_frequency = "on_demand"
    world.dataset.save()
    sync_schedules_reconcile()
    assert not PeriodicTask.objects.filter(name=task_name(world.dataset)).exists()


@pytest.mark.django_db
def test_file_sources_have_no_beat_schedule(world):
    sync_config_set(dataset=world.dataset, kind="csv")
    assert not PeriodicTask.objects.filter(name=task_name(world.dataset)).exists()


@pytest.mark.django_db
def test_source_errors_are_retried_with_backoff_then_the_run_fails(world, monkeypatch):
    from apps.sync import tasks

    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"table": "t"},
        secrets={"url": "mysql://root@127.0.0.1:1/test"},
    )
    run = sync_run_request(dataset=world.dataset, enqueue=False)
    assert [tasks.backoff_seconds(n) for n in range(7)] == [15, 30, 60, 120, 240, 480, 600]
    # Eager here only to walk the retry path quickly; the real-worker test covers delivery.
    tasks.sync_run_execute.apply(args=[run.pk])
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    assert run.attempts == tasks.MAX_RETRIES + 1 and "connect" in run.error.lower()


@pytest.mark.django_db
def test_busy_waits_do_not_use_up_the_retries_of_source_errors(world):
    from celery.signals import task_retry

    from apps.sync import tasks

    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"table": "t"},
        secrets={"url": "mysql://root@127.0.0.1:1/test"},
    )
    run = sync_run_request(dataset=world.dataset, enqueue=False)
    holder = other_connection()
    holder.cursor().execute(
        "SELECT pg_advisory_lock(%s, %s)", [engine.LOCK_NAMESPACE, world.dataset.pk]
    )
    busy_waits, countdowns = [], []

    def on_retry(reason, **kwargs):
        countdowns.append(reason.when)
        if isinstance(reason.exc, engine.SyncBusy):
            busy_waits.append(reason.when)
            if len(busy_waits) == tasks.MAX_RETRIES + 2:  # more waits than retries allowed
                holder.cursor().execute(
                    "SELECT pg_advisory_unlock(%s, %s)", [engine.LOCK_NAMESPACE, world.dataset.pk]
                )

    task_retry.connect(on_retry, weak=False)
    try:
        # Eager to walk the retries without their countdowns; the other holder of the dataset's
        # lock lets go after a few waits, and the source then fails every time.
        tasks.sync_run_execute.apply(args=[run.pk])
    finally:
        task_retry.disconnect(on_retry)
        holder.close()
    run.refresh_from_db()
    assert len(busy_waits) == tasks.MAX_RETRIES + 2
    assert run.status == SyncRun.Status.FAILED and "connect" in run.error.lower()
    assert run.attempts == tasks.MAX_RETRIES + 1
    backoffs = countdowns[len(busy_waits) :]
    assert backoffs == [tasks.backoff_seconds(n) for n in range(tasks.MAX_RETRIES)]


@pytest.mark.django_db
def test_stale_active_run_is_sent_again(world, tmp_path, django_capture_on_commit_callbacks):
    from unittest import mock

    from apps.sync.services import sync_runs_requeue_stale

    path = write_csv(tmp_path / "a.csv", population_rows(3))
    run = sync_upload_store(
        dataset=world.dataset,
        upload=SimpleUploadedFile("a.csv", path.read_bytes()),
        enqueue=False,
    )
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.RUNNING)
    with mock.patch("apps.sync.tasks.sync_run_execute.delay") as delay:
        assert sync_runs_requeue_stale(older_than_seconds=3600) == []
        assert sync_runs_requeue_stale(older_than_seconds=-1) == [run.pk]
    delay.assert_called_once_with(run.pk)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("flushable_db")
def test_a_datasets_beat_entry_sent_as_beat_sends_it_runs_the_sync_on_a_real_worker(
    world, pg_source, celery_worker_live
):
    from django_celery_beat.schedulers import ModelEntry

    from config.celery import app

    src, url = pg_source
    rows = population_rows(5)
    src.cursor().executemany(
        f"INSERT INTO people ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
        [[r[c] for c in COLUMNS] for r in rows],
    )
    sync_config_set(
        dataset=world.dataset, kind="sql", options={"table": "people"}, secrets={"url": url}
    )
    entry = ModelEntry(PeriodicTask.objects.get(name=task_name(world.dataset)), app=app)
    # What celery.beat.Scheduler.apply_async does with a due entry.
    app.tasks[entry.task].apply_async(entry.args, entry.kwargs, **entry.options)
    deadline = time.monotonic() + 60
    run = None
    while time.monotonic() < deadline:
        run = SyncRun.objects.filter(dataset=world.dataset).first()
        if run is not None and run.status in SyncRun.FINISHED:
            break
        time.sleep(0.2)
    assert run is not None, "beat's entry queued no run"
    assert run.trigger == SyncRun.Trigger.SCHEDULE
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert sorted(r[0] for r in live_rows(world.dataset)) == sorted(r["id_number"] for r in rows)
