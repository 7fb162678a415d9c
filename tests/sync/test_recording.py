"""The audit events of syncs (apps.sync.recording): who asked for a run and through which page,
what a run published and why one failed; and no publication without its event."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.audit.services import RequestOrigin
from apps.sync import engine
from apps.sync.models import SyncRun
from apps.sync.services import (
    SyncAlreadyActive,
    SyncRunNotCancellable,
    sync_config_set,
    sync_run_cancel,
    sync_run_fail,
    sync_run_request,
    sync_upload_store,
)
from tests.sync.helpers import COLUMNS, config_form_data, live_rows, population_rows, write_csv

pytestmark = pytest.mark.django_db

ADMIN_CALL = {"HTTP_X_REQUEST_ID": "sync-admin-1", "REMOTE_ADDR": "198.51.100.7"}


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def audit_store_refuses():
    """Every audit INSERT fails from now on (a trigger raising in PostgreSQL, gone with the
    test's rollback: DDL is transactional)."""

    def refuse() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION pg_temp.audit_down() RETURNS trigger LANGUAGE plpgsql AS"
                " $$ BEGIN RAISE EXCEPTION 'audit store down'; END $$;"
                " CREATE TRIGGER zz_audit_down BEFORE INSERT ON audit_event"
                " FOR EACH ROW EXECUTE FUNCTION pg_temp.audit_down();"
            )

    return refuse


def csv_upload(tmp_path, rows: list[dict], name: str = "p.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, write_csv(tmp_path / name, rows).read_bytes())


def sync_events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def assert_about_run(event: AuditEvent, world, run: SyncRun) -> None:
    assert event.kind == "admin" and event.target == f"sync_run:{run.pk}"
    assert (event.provider_id, event.provider_code) == (world.provider.pk, world.provider.code)
    assert (event.dataset_id, event.dataset_code) == (world.dataset.pk, world.dataset.code)


def test_an_upload_in_the_admin_records_the_officer_the_page_request_and_the_file(
    world, client, tmp_path
):
    upload = csv_upload(tmp_path, population_rows(5))
    content = upload.read()
    upload.seek(0)
    client.force_login(world.provider_officer)
    response = client.post(
        reverse("admin:sync_syncconfig_add"), config_form_data(world, upload), **ADMIN_CALL
    )
    assert response.status_code == 302, response.content[:2000]
    run = SyncRun.objects.get(dataset=world.dataset)
    [event] = sync_events("sync.request")
    assert_about_run(event, world, run)
    assert (event.user_id, event.username) == (
        world.provider_officer.pk,
        world.provider_officer.username,
    )
    assert (event.request_id, event.client_ip) == ("sync-admin-1", "198.51.100.7")
    assert event.details == {
        "mode": "full",
        "source_kind": "csv",
        "trigger": "upload",
        "file_name": "p.csv",
        "file_sha256": hashlib.sha256(content).hexdigest(),
    }
    assert run.options["path"] not in event.body  # where the server keeps it is no one's concern


def test_sync_now_in_the_admin_records_the_officer_and_the_page_request(world, client, tmp_path):
    config = sync_config_set(dataset=world.dataset, kind="http", options={"url": "http://x"})
    client.force_login(world.provider_officer)
    response = client.post(
        reverse("admin:sync_syncconfig_sync_now", args=[config.pk]), **ADMIN_CALL
    )
    assert response.status_code == 302
    run = SyncRun.objects.get(dataset=world.dataset)
    [event] = sync_events("sync.request")
    assert_about_run(event, world, run)
    assert event.user_id == world.provider_officer.pk
    assert (event.request_id, event.client_ip) == ("sync-admin-1", "198.51.100.7")
    assert event.details == {"mode": "full", "source_kind": "http", "trigger": "manual"}


def test_sync_now_with_the_longest_request_id_the_platform_takes_is_queued(world, client):
    # Request ids may have 128 characters; audit events keep the first 64, and so does the
    # run for the events of its publication or failure.
    config = sync_config_set(dataset=world.dataset, kind="http", options={"url": "http://x"})
    client.force_login(world.provider_officer)
    long_id = "r" * 128
    response = client.post(
        reverse("admin:sync_syncconfig_sync_now", args=[config.pk]),
        HTTP_X_REQUEST_ID=long_id,
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    run = SyncRun.objects.get(dataset=world.dataset)
    assert run.request_id == long_id[:64]
    [event] = sync_events("sync.request")
    assert event.request_id == run.request_id


def test_a_run_uploaded_in_the_admin_records_its_publication_with_the_page_request(
    world, client, tmp_path
):
    """The run executes later, in a worker outside any request: its publication still names
    the request the officer uploaded the file through, as the request's own event does."""
    client.force_login(world.provider_officer)
    response = client.post(
        reverse("admin:sync_syncconfig_add"),
        config_form_data(world, csv_upload(tmp_path, population_rows(5))),
        **ADMIN_CALL,
    )
    assert response.status_code == 302, response.content[:2000]
    run = engine.run_execute(run_id=SyncRun.objects.get(dataset=world.dataset).pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    [event] = sync_events("sync.publish")
    assert_about_run(event, world, run)
    assert event.user_id == world.provider_officer.pk
    assert (event.request_id, event.client_ip) == ("sync-admin-1", "198.51.100.7")
    body = json.loads(event.body)
    assert (body["request_id"], body["client_ip"]) == ("sync-admin-1", "198.51.100.7")


def test_a_run_asked_for_through_a_request_records_its_failure_with_that_request(world, tmp_path):
    rows = [{**row, "mobile": "999"} for row in population_rows(4)]
    run = sync_upload_store(
        dataset=world.dataset,
        upload=csv_upload(tmp_path, rows),
        by=world.provider_officer,
        enqueue=False,
        origin=RequestOrigin(request_id="upload-7", client_ip="2001:db8::7"),
    )
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.FAILED
    [event] = sync_events("sync.fail")
    assert (event.request_id, event.client_ip) == ("upload-7", "2001:db8::7")


def test_a_run_given_up_after_its_retries_records_the_sync_now_request(world, client):
    config = sync_config_set(dataset=world.dataset, kind="http", options={"url": "http://x"})
    client.force_login(world.provider_officer)
    client.post(reverse("admin:sync_syncconfig_sync_now", args=[config.pk]), **ADMIN_CALL)
    sync_run_fail(run=SyncRun.objects.get(dataset=world.dataset), reason="source unreachable")
    [event] = sync_events("sync.fail")
    assert (event.request_id, event.client_ip) == ("sync-admin-1", "198.51.100.7")


def test_a_refused_second_request_records_nothing(world, tmp_path):
    sync_upload_store(
        dataset=world.dataset,
        upload=csv_upload(tmp_path, population_rows(3)),
        by=world.provider_officer,
        enqueue=False,
    )
    with pytest.raises(SyncAlreadyActive):
        sync_run_request(dataset=world.dataset, by=world.provider_officer, enqueue=False)
    assert len(sync_events("sync.request")) == 1


def test_a_full_run_records_its_publication_with_counts_file_and_requester(world, tmp_path):
    rows = population_rows(20)
    first = sync_upload_store(
        dataset=world.dataset, upload=csv_upload(tmp_path, rows), enqueue=False
    )
    engine.run_execute(run_id=first.pk)
    changed = [{**rows[0], "name": "新名字"}, *rows[1:15], population_rows(21, seed=9)[-1]]
    changed[3] = {**changed[3], "mobile": "999"}  # rejected
    upload = csv_upload(tmp_path, changed, name="second.csv")
    sha256 = hashlib.sha256(upload.read()).hexdigest()
    upload.seek(0)
    sync_config_set(dataset=world.dataset, kind="csv", reject_threshold=0.5)
    run = sync_upload_store(
        dataset=world.dataset, upload=upload, by=world.provider_officer, enqueue=False
    )
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    first_event, event = sync_events("sync.publish")
    assert first_event.target == f"sync_run:{first.pk}" and first_event.user_id is None
    assert_about_run(event, world, run)
    assert (event.user_id, event.username) == (
        world.provider_officer.pk,
        world.provider_officer.username,
    )
    assert event.details == {
        "mode": "full",
        "source_kind": "csv",
        "trigger": "upload",
        "file_name": "second.csv",
        "file_sha256": sha256,
        "rows_read": 16,
        "rows_inserted": 1,
        "rows_updated": 1,
        "rows_removed": 6,
        "rows_rejected": 1,
    }
    assert sync_events("sync.fail") == []


def test_a_scheduled_incremental_run_records_its_publication_without_a_requester(world, pg_source):
    src, url = pg_source
    with src.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO people ({', '.join(COLUMNS)}, updated_at)"
            f" VALUES ({', '.join(['%s'] * (len(COLUMNS) + 1))})",
            [
                [row[c] for c in COLUMNS] + ["2024-01-01T10:00:00+08:00"]
                for row in population_rows(4)
            ],
        )
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        mode="incremental",
        options={"table": "people"},
        secrets={"url": url},
        watermark_column="updated_at",
    )
    run = sync_run_request(dataset=world.dataset, trigger=SyncRun.Trigger.SCHEDULE, enqueue=False)
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert sync_events("sync.request") == []  # no one asked: the schedule did
    [event] = sync_events("sync.publish")
    assert_about_run(event, world, run)
    assert (event.user_id, event.username) == (None, "")
    assert (event.request_id, event.client_ip) == ("", "")  # through no request either
    assert event.details == {
        "mode": "incremental",
        "source_kind": "sql",
        "trigger": "schedule",
        "rows_read": 4,
        "rows_inserted": 4,
        "rows_updated": 0,
        "rows_removed": 0,
        "rows_rejected": 0,
        "watermark_column": "updated_at",
        "watermark_before": "",
        "watermark_after": "2024-01-01T02:00:00+00:00",
    }


def test_a_failed_run_records_its_error_and_publishes_nothing(world, tmp_path):
    rows = [{**row, "mobile": "999"} for row in population_rows(5)]
    run = sync_upload_store(
        dataset=world.dataset,
        upload=csv_upload(tmp_path, rows),
        by=world.provider_officer,
        enqueue=False,
    )
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.FAILED
    [event] = sync_events("sync.fail")
    assert_about_run(event, world, run)
    assert event.user_id == world.provider_officer.pk
    assert event.details["error"] == run.error and "nothing was published" in run.error
    assert event.details["rows_read"] == 5 and event.details["rows_rejected"] == 5
    assert event.details["attempts"] == 1 and event.details["file_name"] == "p.csv"
    assert sync_events("sync.publish") == [] and live_rows(world.dataset) == []


def test_a_run_given_up_after_its_retries_records_the_failure_once(world):
    sync_config_set(dataset=world.dataset, kind="http", options={"url": "http://x"})
    run = sync_run_request(dataset=world.dataset, trigger=SyncRun.Trigger.SCHEDULE, enqueue=False)
    sync_run_fail(run=run, reason="source unreachable: connection refused")
    sync_run_fail(run=run, reason="a second delivery of the last retry")
    [event] = sync_events("sync.fail")
    assert_about_run(event, world, run)
    assert (event.user_id, event.request_id, event.client_ip) == (None, "", "")
    assert event.details == {
        "mode": "full",
        "source_kind": "http",
        "trigger": "schedule",
        "rows_read": 0,
        "rows_rejected": 0,
        "attempts": 0,
        "error": "source unreachable: connection refused",
    }


def test_a_publication_whose_event_cannot_be_written_changes_nothing(
    world, tmp_path, audit_store_refuses
):
    rows = population_rows(10)
    first = sync_upload_store(
        dataset=world.dataset, upload=csv_upload(tmp_path, rows), enqueue=False
    )
    engine.run_execute(run_id=first.pk)
    before = live_rows(world.dataset)
    run = sync_upload_store(
        dataset=world.dataset,
        upload=csv_upload(tmp_path, population_rows(3, seed=7), name="other.csv"),
        enqueue=False,
    )
    events = AuditEvent.objects.count()
    audit_store_refuses()
    with pytest.raises(DatabaseError, match="audit store down"):
        engine.run_execute(run_id=run.pk)
    assert live_rows(world.dataset) == before
    run.refresh_from_db()
    # Neither published nor failed without its event: the run stays active, and is sent
    # again later (sync_runs_requeue_stale).
    assert run.status == SyncRun.Status.RUNNING and run.rows_inserted == 0
    assert AuditEvent.objects.count() == events


def test_a_request_whose_event_cannot_be_written_queues_no_run(
    world, tmp_path, audit_store_refuses
):
    sync_config_set(dataset=world.dataset, kind="http", options={"url": "http://x"})
    audit_store_refuses()
    with pytest.raises(DatabaseError, match="audit store down"):
        sync_run_request(dataset=world.dataset, by=world.provider_officer, enqueue=False)
    assert not SyncRun.objects.exists()


def test_a_failure_quoting_the_source_is_recorded_without_the_quote(world, tmp_path):
    """The audit log is the auditors', who may not read the quarantine: a file without a header
    row makes its first row (a citizen's ID number, name...) the "columns" the error names."""
    rows = population_rows(3)
    data = write_csv(tmp_path / "p.csv", rows).read_bytes().split(b"\n", 1)[1]  # no header
    run = sync_upload_store(
        dataset=world.dataset,
        upload=SimpleUploadedFile("p.csv", data),
        by=world.provider_officer,
        enqueue=False,
    )
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.FAILED
    assert rows[0]["id_number"] in run.error  # the officers' text, whole
    [event] = sync_events("sync.fail")
    assert rows[0]["id_number"] not in event.body
    assert "[not shown: it may quote the source's data]" in event.details["error"]


def test_a_cancelled_run_records_who_cancelled_it_and_through_which_request(world, client):
    sync_config_set(dataset=world.dataset, kind="http", options={"url": "http://x"})
    run = sync_run_request(dataset=world.dataset, enqueue=False)
    client.force_login(world.provider_officer)
    response = client.post(reverse("admin:sync_syncrun_cancel", args=[run.pk]), **ADMIN_CALL)
    assert response.status_code == 302
    [event] = sync_events("sync.cancel")
    assert_about_run(event, world, run)
    assert event.user_id == world.provider_officer.pk
    assert (event.request_id, event.client_ip) == ("sync-admin-1", "198.51.100.7")
    assert event.details == {
        "mode": "full",
        "source_kind": "http",
        "trigger": "manual",
        "status_before": "queued",
        "attempts": 0,
    }
    with pytest.raises(SyncRunNotCancellable, match="already ended"):
        sync_run_cancel(run=run, by=world.provider_officer)
    assert len(sync_events("sync.cancel")) == 1
