"""apps.sync.services: cancelling a run that waits, credentials pinned with the run, the next
attempt's time, and the retention of uploaded files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditEvent
from apps.common import clock
from apps.sync import engine
from apps.sync.models import SyncConfig, SyncRun
from apps.sync.services import (
    SyncRunNotCancellable,
    sync_config_set,
    sync_run_cancel,
    sync_run_next_attempt_set,
    sync_run_request,
    sync_upload_store,
    sync_uploads_purge,
)
from govdata.crypto import secrets_decrypt
from tests.sync.helpers import live_rows, other_connection, population_rows, write_csv

pytestmark = pytest.mark.django_db

UNREACHABLE = "mysql://root@127.0.0.1:1/test"


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _waiting_run(world) -> SyncRun:
    """A run whose source failed once: waiting to retry."""
    sync_config_set(
        dataset=world.dataset, kind="sql", options={"table": "t"}, secrets={"url": UNREACHABLE}
    )
    run = sync_run_request(dataset=world.dataset, by=world.provider_officer, enqueue=False)
    with pytest.raises(engine.SourceError):
        engine.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RETRYING
    return run


def _upload(world, tmp_path, name: str = "p.csv", rows: int = 3) -> SyncRun:
    data = write_csv(tmp_path / name, population_rows(rows)).read_bytes()
    return sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile(name, data), enqueue=False
    )


def test_an_officer_cancels_a_waiting_run_and_its_retry_then_does_nothing(world):
    """Exploratory finding P15: a source that is down kept the dataset blocked ~8 minutes."""
    run = _waiting_run(world)
    cancelled = sync_run_cancel(run=run, by=world.provider_officer)
    assert cancelled.status == SyncRun.Status.CANCELLED
    assert cancelled.cancelled_by == world.provider_officer and cancelled.finished_at
    assert engine.run_execute(run_id=run.pk).status == SyncRun.Status.CANCELLED  # the retry
    run.refresh_from_db()
    assert run.attempts == 1 and run.status == SyncRun.Status.CANCELLED
    [event] = AuditEvent.objects.filter(action="sync.cancel")
    assert event.user_id == world.provider_officer.pk and event.target == f"sync_run:{run.pk}"
    assert event.details["status_before"] == "retrying" and event.details["attempts"] == 1
    # The dataset is free again: "Sync now" queues a new run.
    assert sync_run_request(dataset=world.dataset, enqueue=False).status == "queued"


def test_a_queued_run_can_be_cancelled_before_it_starts(world, tmp_path):
    run = _upload(world, tmp_path)
    sync_run_cancel(run=run, by=world.provider_officer)
    assert engine.run_execute(run_id=run.pk).status == SyncRun.Status.CANCELLED
    assert live_rows(world.dataset) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("flushable_db")
def test_a_run_being_executed_cannot_be_cancelled(world):
    """The decision is taken under the lock every execution holds: a worker that holds it is
    executing the run, and cancelling then would race with it."""
    run = _waiting_run(world)
    worker = other_connection()
    try:
        worker.cursor().execute(
            "SELECT pg_advisory_lock(%s, %s)", [engine.LOCK_NAMESPACE, world.dataset.pk]
        )
        with pytest.raises(SyncRunNotCancellable, match="executing"):
            sync_run_cancel(run=run, by=world.provider_officer)
    finally:
        worker.close()
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RETRYING
    assert not AuditEvent.objects.filter(action="sync.cancel").exists()


def test_a_finished_run_is_not_cancelled(world, tmp_path):
    run = engine.run_execute(run_id=_upload(world, tmp_path).pk)
    with pytest.raises(SyncRunNotCancellable, match="already ended"):
        sync_run_cancel(run=run, by=world.provider_officer)
    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.SUCCEEDED


@pytest.mark.parametrize("who", ["consumer_officer", "provider_auditor", "platform_auditor"])
def test_only_the_providers_officers_cancel(world, who):
    run = _waiting_run(world)
    with pytest.raises(PermissionDenied):
        sync_run_cancel(run=run, by=getattr(world, who))
    assert SyncRun.objects.get(pk=run.pk).status == SyncRun.Status.RETRYING


def test_a_run_keeps_the_credentials_it_was_requested_with_until_it_ends(world):
    """Exploratory finding P15: a waiting run read the options pinned at request time with the
    credentials saved since, so a table of one database could be read in another."""
    run = _waiting_run(world)
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"table": "other"},
        secrets={"url": "postgresql://u:p@10.0.0.9/elsewhere"},
    )
    run.refresh_from_db()
    assert secrets_decrypt(run.secrets_encrypted) == {"url": UNREACHABLE}
    assert run.options == {"table": "t"}
    with pytest.raises(engine.SourceError, match="127.0.0.1"):  # not 10.0.0.9
        engine.run_execute(run_id=run.pk)
    sync_run_cancel(run=run, by=world.provider_officer)
    run.refresh_from_db()
    assert run.secrets_encrypted == ""  # no credential outlives its run
    assert SyncConfig.objects.get(dataset=world.dataset).secrets_encrypted != ""


def test_the_next_attempt_is_recorded_only_for_a_waiting_run(world):
    run = _waiting_run(world)
    before = clock.now()
    sync_run_next_attempt_set(run_id=run.pk, seconds=30)
    run.refresh_from_db()
    assert dt.timedelta(seconds=29) < run.next_attempt_at - before < dt.timedelta(seconds=31)
    sync_run_cancel(run=run, by=world.provider_officer)
    queued = sync_run_request(dataset=world.dataset, enqueue=False)
    sync_run_next_attempt_set(run_id=queued.pk, seconds=30)
    assert SyncRun.objects.get(pk=queued.pk).next_attempt_at is None
    assert SyncRun.objects.get(pk=run.pk).next_attempt_at is None


def _age(path: Path, days: float) -> None:
    then = (clock.now() - dt.timedelta(days=days)).timestamp()
    os.utime(path, (then, then))


def test_uploads_past_their_retention_are_deleted_but_the_published_ones_kept(
    world, tmp_path, settings
):
    """Exploratory finding P21: uploaded files (personal data) were kept forever."""
    settings.GOVDATA = {**settings.GOVDATA, "SYNC_UPLOAD_RETENTION_DAYS": 30}
    published = engine.run_execute(run_id=_upload(world, tmp_path, "ok.csv").pk)
    assert published.status == SyncRun.Status.SUCCEEDED
    bad = [{**row, "mobile": "999"} for row in population_rows(3)]
    data = write_csv(tmp_path / "bad.csv", bad).read_bytes()
    failed = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("bad.csv", data), enqueue=False
    )
    failed = engine.run_execute(run_id=failed.pk)
    assert failed.status == SyncRun.Status.FAILED
    recent = engine.run_execute(run_id=_upload(world, tmp_path, "recent.csv").pk)
    recent = SyncRun.objects.get(pk=recent.pk)
    orphan = Path(published.options["path"]).with_name("orphan.csv")
    orphan.write_text("id_number\n")
    old_ok, old_failed = Path(published.options["path"]), Path(failed.options["path"])
    for path in (old_ok, old_failed, orphan):
        _age(path, 31)
    # The latest successful run is `recent`: the older published file goes too, after 30 days.
    deleted = sync_uploads_purge()
    assert sorted(deleted) == sorted(str(p) for p in (old_ok, old_failed, orphan))
    assert Path(recent.options["path"]).exists()
    runs = {r.pk: r for r in SyncRun.objects.all()}
    assert runs[published.pk].upload_deleted_at and runs[failed.pk].upload_deleted_at
    assert runs[recent.pk].upload_deleted_at is None
    [event] = AuditEvent.objects.filter(action="sync.uploads_delete")
    assert event.user_id is None and event.dataset_id == world.dataset.pk
    files = {f["stored_name"]: f for f in event.details["files"]}
    assert files[old_failed.name]["file_name"] == "bad.csv"
    assert files[old_failed.name]["runs"] == [failed.pk]
    assert files["orphan.csv"]["runs"] == [] and event.details["retention_days"] == 30
    assert sync_uploads_purge() == []  # nothing left to delete, nothing recorded twice
    assert AuditEvent.objects.filter(action="sync.uploads_delete").count() == 1


def test_the_latest_successful_upload_is_kept_however_old(world, tmp_path):
    run = engine.run_execute(run_id=_upload(world, tmp_path).pk)
    _age(Path(run.options["path"]), 400)
    assert sync_uploads_purge(retention_days=30) == []
    assert Path(run.options["path"]).exists()


def test_the_file_of_a_run_still_to_execute_is_kept(world, tmp_path):
    run = _upload(world, tmp_path)
    _age(Path(run.options["path"]), 400)
    assert sync_uploads_purge(retention_days=30) == []
    assert engine.run_execute(run_id=run.pk).status == SyncRun.Status.SUCCEEDED


def test_sync_now_on_a_deleted_upload_asks_for_the_file_again(world, tmp_path):
    run = engine.run_execute(run_id=_upload(world, tmp_path).pk)
    newer = engine.run_execute(run_id=_upload(world, tmp_path, "newer.csv").pk)
    SyncConfig.objects.filter(pk=run.config_id).update(options=run.options)
    _age(Path(run.options["path"]), 40)
    sync_uploads_purge(retention_days=30)
    assert Path(newer.options["path"]).exists()
    with pytest.raises(ValidationError, match="upload the file again"):
        sync_run_request(dataset=world.dataset, enqueue=False)
