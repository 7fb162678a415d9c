"""The sync admin as officers, auditors and platform admins use it: upload, "sync now", the runs
list with progress, the quarantine CSV, isolation between departments and what the pages say."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.common import clock
from apps.sync import engine
from apps.sync.models import SyncConfig, SyncRun
from apps.sync.services import sync_config_set, sync_upload_store
from tests.factories import DatasetFactory, UserFactory, auditor_of
from tests.sync.helpers import config_form_data, population_rows, write_csv

pytestmark = pytest.mark.django_db

CONFIGS = "admin:sync_syncconfig_changelist"
RUNS = "admin:sync_syncrun_changelist"


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def admin_client_(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def officer_client(client, world):
    client.force_login(world.provider_officer)
    return client


def upload(tmp_path, rows: int = 5, name: str = "p.csv") -> SimpleUploadedFile:
    path = write_csv(tmp_path / name, population_rows(rows))
    return SimpleUploadedFile(name, path.read_bytes())


def stored_run(world, tmp_path, rows: int = 5) -> SyncRun:
    return sync_upload_store(dataset=world.dataset, upload=upload(tmp_path, rows), enqueue=False)


def finished_run(dataset, status: str, *, phase: str, progress: float, rejected: int = 0):
    config = SyncConfig.objects.filter(dataset=dataset).first() or sync_config_set(
        dataset=dataset, kind="csv"
    )
    now = clock.now()
    return SyncRun.objects.create(
        dataset=dataset, config=config, status=status, trigger="manual", mode="full", kind="csv",
        phase=phase, progress=progress, rows_rejected=rejected, created_at=now, started_at=now,
        finished_at=now,
    )  # fmt: skip


def test_upload_in_the_admin_stores_the_file_and_queues_a_run(
    world, admin_client_, tmp_path, django_capture_on_commit_callbacks
):
    data = config_form_data(world, upload(tmp_path))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client_.post(reverse("admin:sync_syncconfig_add"), data)
    assert response.status_code == 302, response.content[:2000]
    run = SyncRun.objects.get(dataset=world.dataset)
    assert run.trigger == "upload" and run.options["original_name"] == "p.csv"
    assert len(callbacks) == 1  # the Celery task is sent after commit


def test_sync_now_refuses_a_second_run_with_a_message(world, admin_client_, tmp_path):
    stored_run(world, tmp_path)
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
    listing = admin_client_.get(reverse(RUNS))
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


def test_provider_officer_sees_the_sync_section_on_the_admin_index(officer_client):
    page = officer_client.get(reverse("admin:index")).content.decode()
    assert reverse(CONFIGS) in page and reverse(RUNS) in page
    assert officer_client.get(reverse(CONFIGS)).status_code == 200
    assert officer_client.get(reverse(RUNS)).status_code == 200
    assert officer_client.get(reverse("admin:sync_syncconfig_add")).status_code == 200


def test_provider_officer_adds_a_config_with_an_upload_for_own_dataset(
    world, officer_client, tmp_path, django_capture_on_commit_callbacks
):
    data = config_form_data(world, upload(tmp_path))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = officer_client.post(reverse("admin:sync_syncconfig_add"), data)
    assert response.status_code == 302, response.content[:2000]
    run = SyncRun.objects.get(dataset=world.dataset)
    assert run.trigger == "upload" and run.requested_by == world.provider_officer
    assert len(callbacks) == 1


def test_provider_officer_uploads_again_on_the_change_page(world, officer_client, tmp_path):
    config = SyncConfig.objects.get(pk=stored_run(world, tmp_path).config_id)
    SyncRun.objects.update(status="succeeded", finished_at=clock.now())
    data = config_form_data(world, upload(tmp_path, rows=7, name="second.csv"))
    response = officer_client.post(reverse("admin:sync_syncconfig_change", args=[config.pk]), data)
    assert response.status_code == 302, response.content[:2000]
    latest = SyncRun.objects.filter(dataset=world.dataset).first()
    assert latest.options["original_name"] == "second.csv" and latest.status == "queued"


def test_provider_officer_syncs_now_and_follows_the_run_to_its_quarantine(
    world, officer_client, tmp_path
):
    first = stored_run(world, tmp_path)
    SyncConfig.objects.filter(pk=first.config_id).update(reject_threshold=0.5)
    SyncRun.objects.filter(pk=first.pk).update(status="succeeded", finished_at=clock.now())
    response = officer_client.post(
        reverse("admin:sync_syncconfig_sync_now", args=[first.config_id])
    )
    run = SyncRun.objects.exclude(pk=first.pk).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:sync_syncrun_change", args=[run.pk])
    assert run.trigger == "manual" and run.requested_by == world.provider_officer
    engine.run_execute(run_id=run.pk)
    assert officer_client.get(response["Location"]).status_code == 200
    progress = officer_client.get(reverse("admin:sync_syncrun_progress", args=[run.pk]))
    assert progress.json()["finished"] is True
    SyncRun.objects.filter(pk=run.pk).update(rows_rejected=1)
    listing = officer_client.get(reverse(RUNS)).content.decode()
    assert reverse("admin:sync_syncrun_quarantine", args=[run.pk]) in listing
    report = officer_client.get(reverse("admin:sync_syncrun_quarantine", args=[run.pk]))
    assert report.status_code == 200


def test_config_form_offers_only_the_officers_own_datasets(world, officer_client, tmp_path):
    other = DatasetFactory(provider=world.consumer, code="WJ-YM-001")
    page = officer_client.get(reverse("admin:sync_syncconfig_add"))
    choices = page.context["adminform"].form.fields["dataset"].queryset
    assert list(choices) == [world.dataset]
    data = {**config_form_data(world, upload(tmp_path)), "dataset": other.pk}
    response = officer_client.post(reverse("admin:sync_syncconfig_add"), data)
    assert response.status_code == 200
    assert "dataset" in response.context["adminform"].form.errors
    assert not SyncConfig.objects.exists() and not SyncRun.objects.exists()


def test_officer_of_another_department_sees_nothing_of_the_providers_syncs(world, client, tmp_path):
    run = stored_run(world, tmp_path)
    SyncRun.objects.filter(pk=run.pk).update(rows_rejected=1)
    client.force_login(world.outsider_officer)
    configs = client.get(reverse(CONFIGS)).content.decode()
    runs = client.get(reverse(RUNS)).content.decode()
    assert world.dataset.code not in configs and world.dataset.code not in runs
    for name, pk in [("syncconfig_change", run.config_id), ("syncrun_change", run.pk)]:
        response = client.get(reverse(f"admin:sync_{name}", args=[pk]))
        assert response.status_code == 302  # "does not exist", back to the index
    for name, pk in [("syncrun_progress", run.pk), ("syncrun_quarantine", run.pk)]:
        assert client.get(reverse(f"admin:sync_{name}", args=[pk])).status_code == 404
    sync_now = reverse("admin:sync_syncconfig_sync_now", args=[run.config_id])
    assert client.post(sync_now).status_code == 404
    response = client.post(
        reverse("admin:sync_syncconfig_change", args=[run.config_id]),
        config_form_data(world, upload(tmp_path, name="evil.csv")),
    )
    assert response.status_code == 302 and SyncRun.objects.count() == 1


def test_a_typed_file_path_is_refused_and_the_uploaded_one_kept(world, officer_client, tmp_path):
    config = SyncConfig.objects.get(pk=stored_run(world, tmp_path).config_id)
    stored = dict(config.options)
    url = reverse("admin:sync_syncconfig_change", args=[config.pk])
    sneaky = {**config_form_data(world, ""), "options": '{"path": "/etc/passwd"}'}
    response = officer_client.post(url, sneaky)
    assert response.status_code == 200 and "options" in response.context["adminform"].form.errors
    response = officer_client.post(url, {**sneaky, "options": '{"delimiter": ";"}'})
    assert response.status_code == 302, response.content[:2000]
    config.refresh_from_db()
    assert config.options == {**stored, "delimiter": ";"}


def test_config_page_shows_the_uploaded_files_name_not_where_it_is_stored(
    world, officer_client, tmp_path
):
    config = SyncConfig.objects.get(pk=stored_run(world, tmp_path).config_id)
    assert "/sync/" in config.options["path"]
    pages = [
        officer_client.get(reverse("admin:sync_syncconfig_change", args=[config.pk])),
        officer_client.get(reverse(CONFIGS)),
        officer_client.get(reverse("admin:sync_syncrun_change", args=[config.runs.get().pk])),
    ]
    for page in pages:
        assert page.status_code == 200
        assert config.options["path"] not in page.content.decode()
        assert "p.csv" in page.content.decode()


def test_runs_are_view_only(world, officer_client, tmp_path):
    run = stored_run(world, tmp_path)
    listing = officer_client.get(reverse(RUNS)).content.decode()
    assert "Select sync run to view" in listing
    change = reverse("admin:sync_syncrun_change", args=[run.pk])
    page = officer_client.get(change).content.decode()
    assert 'name="_save"' not in page
    assert officer_client.post(change, {"status": "succeeded"}).status_code == 403
    run.refresh_from_db()
    assert run.status == "queued"


def test_runs_list_heading_is_view_in_chinese(world, officer_client, tmp_path):
    stored_run(world, tmp_path)
    page = officer_client.get(reverse(RUNS), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "选择同步运行查看" in page and "来修改" not in page


def test_config_form_help_is_in_the_users_language(officer_client):
    url = reverse("admin:sync_syncconfig_add")
    page = officer_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "上传后立即开始同步" in page and "Starts a run at once" not in page


def test_failed_run_shows_its_status_and_a_full_bar(world, officer_client):
    run = finished_run(world.dataset, "failed", phase="failed", progress=0.9)
    listing = officer_client.get(reverse(RUNS)).content.decode()
    assert 'value="1.0"' in listing and "sync-progress-failed" in listing
    assert "90%" not in listing and "failed</span>" not in listing
    assert "<span>Failed</span>" in listing
    page = officer_client.get(reverse("admin:sync_syncrun_change", args=[run.pk]))
    text = page.content.decode()
    assert f"Sync run #{run.pk} · GA-RK-001 人口基本信息 · Failed" in text
    assert f"#{run.pk} {world.dataset.pk} failed" not in text
    assert '<div class="readonly">failed</div>' not in text  # the phase, in words


def test_succeeded_run_shows_done_in_words(world, officer_client):
    run = finished_run(world.dataset, "succeeded", phase="done", progress=1.0)
    text = officer_client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).content.decode()
    assert '<div class="readonly">Done</div>' in text and "<span>Succeeded</span>" in text
    assert "100% done" not in text and '<div class="readonly">done</div>' not in text


def test_running_run_shows_percent_and_phase_and_its_json_says_the_same(world, officer_client):
    run = finished_run(world.dataset, "running", phase="reading", progress=0.45)
    SyncRun.objects.filter(pk=run.pk).update(finished_at=None)
    listing = officer_client.get(reverse(RUNS)).content.decode()
    assert "<span>45% Reading the source</span>" in listing and 'data-finished="0"' in listing
    progress = officer_client.get(reverse("admin:sync_syncrun_progress", args=[run.pk])).json()
    assert progress["label"] == "45% Reading the source" and progress["bar"] == 0.45
    assert progress["phase_display"] == "Reading the source"


def test_runs_status_is_translated_in_chinese(world, officer_client):
    finished_run(world.dataset, "failed", phase="failed", progress=0.9)
    page = officer_client.get(reverse(RUNS), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<span>失败</span>" in page


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_runs_changelist_takes_the_same_queries_whatever_the_number_of_runs(
    world, officer_client, django_assert_num_queries
):
    finished_run(world.dataset, "failed", phase="failed", progress=0.9, rejected=2)
    one = _count_queries(officer_client, reverse(RUNS))
    for _ in range(5):
        finished_run(world.dataset, "succeeded", phase="done", progress=1.0, rejected=3)
    with django_assert_num_queries(one):
        page = officer_client.get(reverse(RUNS))
    assert page.content.decode().count("sync-progress-") == 6


def test_configs_changelist_takes_the_same_queries_whatever_the_number_of_configs(
    world, officer_client, django_assert_num_queries
):
    sync_config_set(dataset=world.dataset, kind="csv")
    one = _count_queries(officer_client, reverse(CONFIGS))
    for _ in range(5):
        sync_config_set(dataset=DatasetFactory(provider=world.provider), kind="csv")
    with django_assert_num_queries(one):
        page = officer_client.get(reverse(CONFIGS))
    assert page.content.decode().count("/sync/syncconfig/") >= 6


def test_platform_auditor_views_every_run_without_configs_or_quarantine(world, client):
    run = finished_run(world.dataset, "succeeded", phase="done", progress=1.0, rejected=2)
    client.force_login(world.platform_auditor)
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse(RUNS) in index and reverse(CONFIGS) not in index
    listing = client.get(reverse(RUNS)).content.decode()
    assert world.dataset.code in listing and "2 rows" in listing
    assert reverse("admin:sync_syncrun_quarantine", args=[run.pk]) not in listing
    page = client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).content.decode()
    assert reverse("admin:sync_syncconfig_change", args=[run.config_id]) not in page
    assert client.get(reverse("admin:sync_syncrun_progress", args=[run.pk])).status_code == 200
    assert client.get(reverse("admin:sync_syncrun_quarantine", args=[run.pk])).status_code == 403
    assert client.get(reverse(CONFIGS)).status_code == 403


def test_department_auditor_views_own_departments_runs_only(world, client):
    own = finished_run(world.dataset, "succeeded", phase="done", progress=1.0)
    foreign = finished_run(
        DatasetFactory(provider=world.consumer, code="WJ-YM-001"), "failed", phase="failed",
        progress=0.5,
    )  # fmt: skip
    client.force_login(world.provider_auditor)
    listing = client.get(reverse(RUNS)).content.decode()
    assert f"/sync/syncrun/{own.pk}/" in listing and f"/sync/syncrun/{foreign.pk}/" not in listing
    assert client.get(reverse("admin:sync_syncrun_change", args=[foreign.pk])).status_code == 302
    client.force_login(auditor_of(world.outsider))
    listing = client.get(reverse(RUNS)).content.decode()
    assert (
        f"/sync/syncrun/{own.pk}/" not in listing and f"/sync/syncrun/{foreign.pk}/" not in listing
    )
    assert client.get(reverse("admin:sync_syncrun_progress", args=[own.pk])).status_code == 404


def test_an_upload_of_the_wrong_kind_brings_the_form_back_and_saves_nothing(
    world, officer_client, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    config = SyncConfig.objects.get(pk=stored_run(world, tmp_path).config_id)
    SyncRun.objects.update(status="succeeded", finished_at=clock.now())
    before = (dict(config.options), config.updated_at, SyncRun.objects.count())
    url = reverse("admin:sync_syncconfig_change", args=[config.pk])
    data = {**config_form_data(world, ""), "reject_percent": "50"}
    data["upload"] = SimpleUploadedFile("x.exe", b"MZ\x90\x00")
    response = officer_client.post(url, data)
    assert response.status_code == 200
    assert "upload" in response.context["adminform"].form.errors
    assert not list(response.context["messages"])  # no "changed successfully" beside it
    config.refresh_from_db()
    assert (config.options, config.updated_at, SyncRun.objects.count()) == before
    assert config.reject_threshold != 0.5


def test_an_xlsx_file_sent_to_a_new_csv_source_is_refused_and_nothing_is_saved(
    world, officer_client
):
    """Exploratory finding F6: the configuration used to be saved as an Excel source, with a
    success message naming the CSV kind the officer had chosen."""
    data = config_form_data(world, SimpleUploadedFile("notcsv.xlsx", b"PK\x03\x04 not really"))
    response = officer_client.post(reverse("admin:sync_syncconfig_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["upload"]
    assert "notcsv.xlsx" in errors[0] and ".csv" in errors[0] and "CSV file upload" in errors[0]
    assert not SyncConfig.objects.exists() and not SyncRun.objects.exists()


def test_an_xlsx_file_sent_to_an_existing_csv_source_keeps_the_configuration(
    world, officer_client, tmp_path
):
    config = SyncConfig.objects.get(pk=stored_run(world, tmp_path).config_id)
    SyncRun.objects.update(status="succeeded", finished_at=clock.now())
    before = (config.kind, dict(config.options), config.updated_at, SyncRun.objects.count())
    data = {**config_form_data(world, ""), "reject_percent": "50"}
    data["upload"] = SimpleUploadedFile("book.xlsx", b"PK\x03\x04 not really")
    url = reverse("admin:sync_syncconfig_change", args=[config.pk])
    response = officer_client.post(url, data)
    assert response.status_code == 200
    assert "book.xlsx" in response.context["adminform"].form.errors["upload"][0]
    config.refresh_from_db()
    assert (config.kind, config.options, config.updated_at, SyncRun.objects.count()) == before
    assert config.reject_threshold != 0.5


def test_choosing_excel_and_uploading_a_workbook_switches_the_source(
    world, officer_client, tmp_path
):
    """Changing the kind is the officer's choice in the form, and then the upload matches it."""
    from openpyxl import Workbook

    config = SyncConfig.objects.get(pk=stored_run(world, tmp_path).config_id)
    SyncRun.objects.update(status="succeeded", finished_at=clock.now())
    book = Workbook()
    book.active.append(["id_number", "name"])
    book.save(tmp_path / "people.xlsx")
    data = {**config_form_data(world, ""), "kind": "xlsx"}
    data["upload"] = SimpleUploadedFile("people.xlsx", (tmp_path / "people.xlsx").read_bytes())
    url = reverse("admin:sync_syncconfig_change", args=[config.pk])
    response = officer_client.post(url, data)
    assert response.status_code == 302, response.content[:2000]
    config.refresh_from_db()
    run = SyncRun.objects.filter(dataset=world.dataset).first()
    assert config.kind == "xlsx" and run.kind == "xlsx" and run.status == "queued"


@pytest.mark.parametrize(
    ("language", "header", "reasons"),
    [
        ("en", "row,field,reason,value", ["not a mainland mobile number", "wrong check digit"]),
        ("zh-hans", "行,信息项,理由,值", ["不是大陆手机号码", "校验码错误"]),
    ],
)
def test_quarantine_report_reasons_follow_the_readers_language(
    world, officer_client, tmp_path, settings, language, header, reasons
):
    """Exploratory finding F5: the header followed the reader's language, the reasons the
    language the run had executed in (the platform's, Chinese by default)."""
    from django.utils import translation

    other = "zh-hans" if language == "en" else "en"
    settings.LANGUAGE_CODE = other  # the platform's language differs from the reader's
    rows = population_rows(30)
    rows[2] = {**rows[2], "mobile": "999"}
    ident = rows[5]["id_number"]
    rows[5] = {**rows[5], "id_number": ident[:17] + ("0" if ident[17] != "0" else "1")}
    sync_config_set(dataset=world.dataset, kind="csv", reject_threshold=0.5)
    path = write_csv(tmp_path / "p.csv", rows)
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("p.csv", path.read_bytes()), enqueue=False
    )
    with translation.override(other):
        engine.run_execute(run_id=run.pk)
    url = reverse("admin:sync_syncrun_quarantine", args=[run.pk])
    report = officer_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == header
    assert lines[1].startswith("4,mobile,") and reasons[0] in lines[1]
    assert lines[2].startswith("7,id_number,") and reasons[1] in lines[2]


QUERY_FAILED = "The source query failed: %(e)s"
ECHOED = 'invalid input syntax for type integer: "440106199001010005"'


def _failed_with(world, msgid: str, params: dict, **fields) -> SyncRun:
    run = finished_run(world.dataset, "failed", phase="failed", progress=0.5)
    SyncRun.objects.filter(pk=run.pk).update(error_text=[msgid, params], **fields)
    return run


def _error_everywhere(client, run: SyncRun, language: str) -> list[str]:
    """The run's error as its page, its progress JSON and the runs list show it."""
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    page = client.get(reverse("admin:sync_syncrun_change", args=[run.pk]), **headers)
    progress = client.get(reverse("admin:sync_syncrun_progress", args=[run.pk]), **headers)
    listing = client.get(reverse(RUNS), **headers)
    return [page.content.decode(), progress.json()["error"], listing.content.decode()]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "The source query failed: timeout"), ("zh-hans", "数据源查询失败：timeout")],
)
def test_a_runs_error_is_shown_in_the_readers_language_everywhere(
    world, officer_client, language, expected
):
    """Exploratory finding P8: an officer working in English read the errors in Chinese."""
    run = _failed_with(world, QUERY_FAILED, {"e": "timeout"}, error="数据源查询失败：timeout")
    for shown in _error_everywhere(officer_client, run, language):
        assert expected in shown


def test_a_run_stored_before_error_texts_shows_its_stored_error(world, officer_client):
    run = finished_run(world.dataset, "failed", phase="failed", progress=0.5)
    SyncRun.objects.filter(pk=run.pk).update(error="数据源查询失败：旧的错误")
    for shown in _error_everywhere(officer_client, run, "en"):
        assert "数据源查询失败：旧的错误" in shown


def test_auditors_read_a_runs_error_without_what_it_quotes_of_the_source(world, client):
    """Exploratory finding P18: auditors may not read the quarantine (personal data), but the
    errors quoted the source's values to them."""
    run = _failed_with(world, QUERY_FAILED, {"e": ECHOED})
    for auditor in (world.provider_auditor, world.platform_auditor):
        client.force_login(auditor)
        for shown in _error_everywhere(client, run, "en"):
            assert "440106199001010005" not in shown
            assert "The source query failed: [not shown: it may quote the source" in shown
    client.force_login(world.provider_officer)
    for shown in _error_everywhere(client, run, "en"):
        assert "440106199001010005" in shown


def test_runs_changelist_with_errors_takes_the_same_queries_whatever_the_number_of_runs(
    world, officer_client, django_assert_num_queries
):
    _failed_with(world, QUERY_FAILED, {"e": ECHOED})
    one = _count_queries(officer_client, reverse(RUNS))
    for _ in range(5):
        _failed_with(world, QUERY_FAILED, {"e": ECHOED})
    with django_assert_num_queries(one):
        page = officer_client.get(reverse(RUNS))
    assert page.content.decode().count("440106199001010005") == 6


def _waiting(world) -> SyncRun:
    run = finished_run(world.dataset, "retrying", phase="reading", progress=0.0)
    at = clock.now() + dt.timedelta(seconds=60)
    SyncRun.objects.filter(pk=run.pk).update(finished_at=None, attempts=2, next_attempt_at=at)
    run.refresh_from_db()
    return run


def test_an_officer_cancels_a_waiting_run_from_its_page(world, officer_client):
    """Exploratory finding P15: no way to stop a run waiting for a source that is down."""
    run = _waiting(world)
    url = reverse("admin:sync_syncrun_change", args=[run.pk])
    page = officer_client.get(url).content.decode()
    cancel = reverse("admin:sync_syncrun_cancel", args=[run.pk])
    assert cancel in page and "Cancel this run" in page
    assert "2 of 6" in page and "attempt 3 of 6 at " in page
    response = officer_client.post(cancel, follow=True)
    assert response.redirect_chain[-1][0] == url
    run.refresh_from_db()
    assert run.status == "cancelled" and run.cancelled_by == world.provider_officer
    page = response.content.decode()
    assert f"Run #{run.pk} cancelled." in page and cancel not in page
    assert officer_client.post(cancel, follow=True).status_code == 200  # told it has ended


def test_a_waiting_run_says_when_it_retries_on_the_list_and_in_its_progress(world, officer_client):
    run = _waiting(world)
    progress = officer_client.get(reverse("admin:sync_syncrun_progress", args=[run.pk])).json()
    assert progress["label"].startswith("Waiting to retry: attempt 3 of 6 at ")
    assert (progress["attempts"], progress["max_attempts"]) == (2, 6)
    assert progress["next_attempt_at"] == run.next_attempt_at.isoformat()
    assert (
        "Waiting to retry: attempt 3 of 6 at " in officer_client.get(reverse(RUNS)).content.decode()
    )


def test_auditors_and_other_departments_cannot_cancel(world, client):
    run = _waiting(world)
    cancel = reverse("admin:sync_syncrun_cancel", args=[run.pk])
    client.force_login(world.provider_auditor)
    page = client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).content.decode()
    assert cancel not in page
    assert client.post(cancel).status_code == 403
    client.force_login(world.outsider_officer)
    assert client.post(cancel).status_code == 404
    assert SyncRun.objects.get(pk=run.pk).status == "retrying"


def test_the_configuration_line_shows_the_runs_source_kind_not_the_current_one(
    world, officer_client, tmp_path
):
    """Exploratory finding P19: a CSV run showed "Excel" once the source had been switched."""
    run = stored_run(world, tmp_path)
    SyncConfig.objects.filter(pk=run.config_id).update(kind="xlsx")
    page = officer_client.get(reverse("admin:sync_syncrun_change", args=[run.pk]))
    text = page.content.decode()
    assert "GA-RK-001 ← CSV file upload" in text and "GA-RK-001 ← Excel" not in text
    assert reverse("admin:sync_syncconfig_change", args=[run.config_id]) in text


def test_the_reject_threshold_is_entered_and_shown_as_a_percentage(world, officer_client, tmp_path):
    """Exploratory finding P19: the field took 0.05 while every message says 5%."""
    config = SyncConfig.objects.get(pk=stored_run(world, tmp_path).config_id)
    SyncRun.objects.update(status="succeeded", finished_at=clock.now())
    url = reverse("admin:sync_syncconfig_change", args=[config.pk])
    form = officer_client.get(url).context["adminform"].form
    assert str(form.initial["reject_percent"]) == "5"
    assert "5 means 5%" in form.fields["reject_percent"].help_text
    response = officer_client.post(url, {**config_form_data(world, ""), "reject_percent": "12.5"})
    assert response.status_code == 302, response.content[:2000]
    config.refresh_from_db()
    assert config.reject_threshold == 0.125
    response = officer_client.post(url, {**config_form_data(world, ""), "reject_percent": "101"})
    assert "reject_percent" in response.context["adminform"].form.errors


def test_a_cut_quarantine_report_is_said_so_on_the_list_and_the_run_page(world, officer_client):
    run = finished_run(world.dataset, "succeeded", phase="done", progress=1.0, rejected=50000)
    SyncRun.objects.filter(pk=run.pk).update(rejections_listed=20000)
    listing = officer_client.get(reverse(RUNS)).content.decode()
    assert "50000 rows (CSV: 20000 of them listed)" in listing
    page = officer_client.get(reverse("admin:sync_syncrun_change", args=[run.pk]))
    assert "The report lists 20000 of the 50000 rejected rows" in page.content.decode()
    complete = finished_run(world.dataset, "succeeded", phase="done", progress=1.0, rejected=3)
    SyncRun.objects.filter(pk=complete.pk).update(rejections_listed=3)
    page = officer_client.get(reverse("admin:sync_syncrun_change", args=[complete.pk]))
    assert "The report lists" not in page.content.decode()


def test_the_run_page_says_when_its_uploaded_file_was_deleted(world, officer_client, tmp_path):
    run = stored_run(world, tmp_path)
    deleted = dt.datetime(2026, 3, 1, 4, 0, tzinfo=dt.UTC)
    SyncRun.objects.filter(pk=run.pk).update(status="failed", upload_deleted_at=deleted)
    page = officer_client.get(reverse("admin:sync_syncrun_change", args=[run.pk]))
    assert "p.csv (deleted on March 1, 2026: uploads are kept 30 days)" in page.content.decode()


def test_the_run_page_tells_the_removals_due_to_rejected_rows(world, officer_client):
    run = finished_run(world.dataset, "succeeded", phase="done", progress=1.0, rejected=1)
    SyncRun.objects.filter(pk=run.pk).update(rows_removed=3, rows_removed_rejected=1)
    text = officer_client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).content
    assert (
        "3 (1 of the removed records were removed because their new row was rejected"
        in text.decode()
    )
