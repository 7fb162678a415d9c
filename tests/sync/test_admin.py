"""The officer's admin: upload, "sync now", the runs list with progress, the quarantine CSV."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apps.sync import engine
from apps.sync.models import SyncConfig, SyncRun
from apps.sync.services import sync_config_set, sync_upload_store
from tests.factories import UserFactory
from tests.sync.helpers import config_form_data, population_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_upload_in_the_admin_stores_the_file_and_queues_a_run(
    world, admin_client_, tmp_path, django_capture_on_commit_callbacks
):
    path = write_csv(tmp_path / "p.csv", population_rows(5))
    data = config_form_data(world, SimpleUploadedFile("p.csv", path.read_bytes()))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client_.post(reverse("admin:sync_syncconfig_add"), data)
    assert response.status_code == 302, response.content[:2000]
    run = SyncRun.objects.get(dataset=world.dataset)
    assert run.trigger == "upload" and run.options["original_name"] == "p.csv"
    assert len(callbacks) == 1  # the Celery task is sent after commit


def test_sync_now_refuses_a_second_run_with_a_message(world, admin_client_, tmp_path):
    path = write_csv(tmp_path / "p.csv", population_rows(5))
    sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("p.csv", path.read_bytes()), enqueue=False
    )
    config = SyncConfig.objects.get(dataset=world.dataset)
    response = admin_client_.post(
        reverse("admin:sync_syncconfig_sync_now", args=[config.pk]), follow=True
    )
    assert "already" in response.content.decode() or "已" in response.content.decode()
    assert SyncRun.objects.count() == 1


def test_runs_list_progress_json_and_quarantine_csv(world, admin_client_, tmp_path):
    rows = population_rows(30)
    rows[2] = {**rows[2], "mobile": "999"}
    sync_config_set(dataset=world.dataset, kind="csv", reject_threshold=0.5)
    path = write_csv(tmp_path / "p.csv", rows)
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("p.csv", path.read_bytes()), enqueue=False
    )
    engine.run_execute(run_id=run.pk)
    listing = admin_client_.get(reverse("admin:sync_syncrun_changelist"))
    assert listing.status_code == 200 and b"sync-progress" in listing.content
    progress = admin_client_.get(reverse("admin:sync_syncrun_progress", args=[run.pk])).json()
    assert (
        progress["status"] == "succeeded"
        and progress["rows_rejected"] == 1
        and progress["finished"]
    )
    report = admin_client_.get(reverse("admin:sync_syncrun_quarantine", args=[run.pk]))
    body = b"".join(report.streaming_content).decode("utf-8-sig")
    assert "4,mobile" in body and "999" in body


def test_officer_of_another_department_cannot_see_the_runs(world, client, tmp_path):
    path = write_csv(tmp_path / "p.csv", population_rows(3))
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("p.csv", path.read_bytes()), enqueue=False
    )
    outsider = world.outsider_officer
    outsider.is_staff = True
    outsider.is_superuser = False
    outsider.save()
    from django.contrib.auth.models import Permission

    outsider.user_permissions.add(*Permission.objects.filter(content_type__app_label="sync"))
    client.force_login(outsider)
    assert client.get(reverse("admin:sync_syncrun_progress", args=[run.pk])).status_code == 404
