"""Bad input never reaches the published table, and the officer is told what and where."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from apps.sync import engine
from apps.sync.models import SyncConfig, SyncRejection, SyncRun
from apps.sync.selectors import run_quarantine_csv
from apps.sync.services import sync_config_set, sync_upload_store
from tests.sync.helpers import COLUMNS, live_rows, population_rows, write_csv

pytestmark = pytest.mark.django_db


def _run_bytes(world, data: bytes, name="f.csv", encoding=""):
    upload = SimpleUploadedFile(name, data)
    run = sync_upload_store(dataset=world.dataset, upload=upload, encoding=encoding, enqueue=False)
    return engine.run_execute(run_id=run.pk)


def _publish_baseline(world, tmp_path):
    rows = population_rows(10)
    path = write_csv(tmp_path / "base.csv", rows)
    run = _run_bytes(world, path.read_bytes())
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    return live_rows(world.dataset)


def _csv_bytes(tmp_path, rows, **kw) -> bytes:
    return write_csv(tmp_path / "x.csv", rows, **kw).read_bytes()


def test_wrong_encoding_chosen_by_officer_fails_naming_the_row(world, tmp_path):
    before = _publish_baseline(world, tmp_path)
    data = _csv_bytes(tmp_path, population_rows(5, seed=3), encoding="gbk")
    run = _run_bytes(world, data, encoding="utf-8")
    assert run.status == SyncRun.Status.FAILED
    assert "Line 2 " in run.error and "utf-8" in run.error
    assert live_rows(world.dataset) == before


def test_missing_key_column_fails_the_run(world, tmp_path):
    before = _publish_baseline(world, tmp_path)
    data = _csv_bytes(tmp_path, population_rows(3), columns=COLUMNS[1:])
    run = _run_bytes(world, data)
    assert run.status == SyncRun.Status.FAILED and "id_number" in run.error
    assert live_rows(world.dataset) == before


def test_extra_columns_are_ignored(world, tmp_path):
    rows = [{**r, "notes": "x"} for r in population_rows(3)]
    run = _run_bytes(world, _csv_bytes(tmp_path, rows, columns=[*COLUMNS, "notes"]))
    assert run.status == SyncRun.Status.SUCCEEDED and run.rows_inserted == 3


def test_broken_quotes_fail_the_run_naming_the_row(world, tmp_path):
    before = _publish_baseline(world, tmp_path)
    data = _csv_bytes(tmp_path, population_rows(3)) + b'"unclosed,quote\n'
    run = _run_bytes(world, data)
    assert run.status == SyncRun.Status.FAILED
    assert "5" in run.error
    assert live_rows(world.dataset) == before


def test_invalid_check_digits_and_bad_dates_go_to_quarantine(world, tmp_path):
    rows = population_rows(40)
    bad_id = rows[0]["id_number"][:17] + ("0" if rows[0]["id_number"][17] != "0" else "1")
    rows[0] = {**rows[0], "id_number": bad_id}
    rows[1] = {**rows[1], "birth_date": "2020-02-30"}
    sync_config_set(dataset=world.dataset, kind="csv", reject_threshold=0.1)
    run = _run_bytes(world, _csv_bytes(tmp_path, rows))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_rejected, run.rows_inserted) == (40, 2, 38)
    quarantined = list(SyncRejection.objects.filter(run=run).values_list("row_number", "field"))
    assert quarantined == [(2, "id_number"), (3, "birth_date")]
    report = "".join(run_quarantine_csv(run=run))
    assert "2020-02-30" in report and "birth_date" in report


def test_rejected_share_over_threshold_aborts_and_keeps_published_data(world, tmp_path):
    before = _publish_baseline(world, tmp_path)
    rows = population_rows(20, seed=4)
    for i in range(5):
        rows[i] = {**rows[i], "mobile": "12345"}
    run = _run_bytes(world, _csv_bytes(tmp_path, rows))
    assert run.status == SyncRun.Status.FAILED and "25.0%" in run.error
    assert live_rows(world.dataset) == before


@pytest.mark.parametrize("fast_path", [True, False], ids=["arrow", "python"])
def test_bad_rows_at_the_start_under_the_limit_overall_are_quarantined_and_the_run_succeeds(
    world, tmp_path, fast_path
):
    rows = population_rows(2100, seed=6)
    for i in range(100):  # 100 of 2,100 (4.8%) under a 5% limit, but 10% of the first 1,000
        rows[i] = {**rows[i], "mobile": "12345"}
    sync_config_set(
        dataset=world.dataset, kind="csv", options={"batch_rows": 100}, reject_threshold=0.05
    )
    with override_settings(GOVDATA={**settings.GOVDATA, "SYNC_FAST_PATH": fast_path}):
        run = _run_bytes(world, _csv_bytes(tmp_path, rows))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_rejected, run.rows_inserted) == (2100, 100, 2000)
    quarantined = SyncRejection.objects.filter(run=run).values_list("row_number", flat=True)
    assert sorted(quarantined) == list(range(2, 102))


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_duplicate_keys_fail_naming_the_rows_and_the_report_lists_the_keys(world, tmp_path, mode):
    """Exploratory finding P18: the error, which auditors read, named the keys (ID numbers);
    they are in the quarantine report, which only the officers may read."""
    before = _publish_baseline(world, tmp_path)
    SyncConfig.objects.filter(dataset=world.dataset).update(mode=mode)
    rows = population_rows(6, seed=5)
    key = rows[1]["id_number"]
    rows[4] = {**rows[4], "id_number": key}
    run = _run_bytes(world, _csv_bytes(tmp_path, rows))
    assert run.status == SyncRun.Status.FAILED
    assert "3, 6" in run.error and key not in run.error and key not in str(run.error_text)
    assert (run.rows_rejected, run.rejections_listed) == (2, 2)
    report = "".join(run_quarantine_csv(run=run)).lstrip("\ufeff").splitlines()
    assert report[1:] == [
        f'3,id_number,"duplicate key: rows 3, 6 have the same key",{key}',
        f'6,id_number,"duplicate key: rows 3, 6 have the same key",{key}',
    ]
    assert live_rows(world.dataset) == before


def test_header_only_file_does_not_empty_the_dataset(world, tmp_path):
    before = _publish_baseline(world, tmp_path)
    run = _run_bytes(world, _csv_bytes(tmp_path, []))
    assert run.status == SyncRun.Status.FAILED
    assert live_rows(world.dataset) == before


def test_zero_byte_upload_is_refused(world):
    with pytest.raises(ValidationError, match="0"):
        sync_upload_store(
            dataset=world.dataset, upload=SimpleUploadedFile("e.csv", b""), enqueue=False
        )
    assert not SyncRun.objects.exists()


@override_settings(GOVDATA={"UPLOAD_MAX_BYTES": 1024, "CREDENTIALS_KEY": ""})
def test_file_far_over_the_size_limit_is_refused(world):
    upload = SimpleUploadedFile("big.csv", b"id_number\n" + b"1" * 100_000)
    with pytest.raises(ValidationError, match="limit"):
        sync_upload_store(dataset=world.dataset, upload=upload, enqueue=False)
    assert not SyncRun.objects.exists()


def test_unsupported_file_type_is_refused(world):
    with pytest.raises(ValidationError, match="csv"):
        sync_upload_store(
            dataset=world.dataset, upload=SimpleUploadedFile("x.pdf", b"%PDF"), enqueue=False
        )


def test_not_an_xlsx_workbook_fails_clearly(world):
    run = _run_bytes(world, b"this is not a zip", name="x.xlsx")
    assert run.status == SyncRun.Status.FAILED and "xlsx" in run.error


@pytest.mark.parametrize(
    ("kind", "name", "says"),
    [("csv", "book.xlsx", ".csv"), ("xlsx", "people.csv", ".xlsx"), ("sql", "people.csv", "CSV")],
)
def test_a_file_of_another_kind_than_the_source_is_refused(world, tmp_path, kind, name, says):
    """An upload never switches the source kind the officer configured (finding F6)."""
    options = {"url": "postgresql://u@10.0.0.1/db", "table": "people"} if kind == "sql" else {}
    config = sync_config_set(dataset=world.dataset, kind=kind, options=options)
    with pytest.raises(ValidationError) as refused:
        sync_upload_store(
            dataset=world.dataset, upload=SimpleUploadedFile(name, b"id_number\n1\n"), enqueue=False
        )
    assert name in refused.value.messages[0] and says in refused.value.messages[0]
    after = SyncConfig.objects.get(pk=config.pk)
    assert (after.kind, after.options) == (kind, options)
    assert not SyncRun.objects.exists()


def test_a_runs_error_text_is_in_the_platforms_language_whoever_executes_it(
    world, tmp_path, settings
):
    """A run executed in a request (English here) stores what a worker would: the platform's
    language in `error` (the audit log's), and the message with its parameters in `error_text`
    for each reader's language (tests/sync/test_errors.py)."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "zh-hans"
    data = _csv_bytes(tmp_path, population_rows(3), columns=COLUMNS[1:])
    with translation.override("en"):
        run = _run_bytes(world, data)
        assert translation.get_language() == "en"
    assert run.status == SyncRun.Status.FAILED
    assert "id_number" in run.error and "missing" not in run.error and "缺少" in run.error
