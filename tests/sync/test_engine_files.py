"""Full and incremental runs from uploaded CSV files, end to end through the engine."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sync import engine
from apps.sync.models import SyncRun
from apps.sync.services import sync_config_set, sync_upload_store
from tests.factories import dataset_of_every_type
from tests.sync.helpers import COLUMNS, live_rows, population_rows, write_csv


def _upload(world, tmp_path, rows, name="p.csv", encoding="utf-8", **kw):
    path = write_csv(tmp_path / name, rows, encoding=encoding, **kw)
    upload = SimpleUploadedFile(name, path.read_bytes())
    run = sync_upload_store(dataset=world.dataset, upload=upload, enqueue=False)
    return engine.run_execute(run_id=run.pk)


@pytest.mark.django_db
def test_full_csv_run_publishes_all_valid_rows_and_counts_them(world, tmp_path):
    rows = population_rows(50)
    run = _upload(world, tmp_path, rows)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_inserted, run.rows_rejected) == (50, 50, 0)
    published = live_rows(world.dataset)
    assert [r[0] for r in published] == sorted(r["id_number"] for r in rows)


@pytest.mark.django_db
def test_second_full_run_reports_inserted_updated_removed(world, tmp_path):
    rows = population_rows(20)
    _upload(world, tmp_path, rows)
    changed = rows[:15]
    changed[0] = {**changed[0], "name": "新名字"}
    changed.append(population_rows(21, seed=9)[-1])
    run = _upload(world, tmp_path, changed, name="p2.csv")
    assert (run.rows_inserted, run.rows_updated, run.rows_removed) == (1, 1, 5)
    assert len(live_rows(world.dataset)) == 16


@pytest.mark.django_db
def test_incremental_file_run_upserts_and_keeps_absent_rows(world, tmp_path):
    rows = population_rows(10)
    _upload(world, tmp_path, rows)
    sync_config_set(dataset=world.dataset, kind="csv", mode="incremental")
    delta = [{**rows[0], "district": "越秀区"}, population_rows(11, seed=5)[-1]]
    run = _upload(world, tmp_path, delta, name="delta.csv")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_inserted, run.rows_updated, run.rows_removed) == (1, 1, 0)
    assert len(live_rows(world.dataset)) == 11


@pytest.mark.django_db
def test_after_a_key_change_an_incremental_run_asks_for_a_full_run_and_changes_nothing(
    world, tmp_path
):
    from apps.catalog.models import Dataset

    rows = population_rows(10)
    _upload(world, tmp_path, rows)
    before = sorted(live_rows(world.dataset))
    Dataset.objects.filter(pk=world.dataset.pk).update(key_field="mobile")
    world.dataset.refresh_from_db()
    sync_config_set(dataset=world.dataset, kind="csv", mode="incremental")
    run = _upload(world, tmp_path, [{**rows[0], "district": "越秀区"}], name="delta.csv")
    assert run.status == SyncRun.Status.FAILED
    assert "Run a full sync first" in run.error and "mobile" in run.error
    assert sorted(live_rows(world.dataset)) == before
    sync_config_set(dataset=world.dataset, kind="csv", mode="full")
    run = _upload(world, tmp_path, rows, name="again.csv")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    # the old rows, keyed otherwise, cannot be matched with the new: all replaced
    assert (run.rows_inserted, run.rows_updated, run.rows_removed) == (10, 0, 10)


@pytest.mark.django_db
def test_after_a_field_type_change_a_full_run_rebuilds_the_table_and_counts_it_replaced(
    world, tmp_path
):
    from apps.catalog.models import Field

    rows = population_rows(10)
    _upload(world, tmp_path, rows)
    Field.objects.filter(dataset=world.dataset, name="birth_date").update(data_type="string")
    world.dataset.refresh_from_db()
    sync_config_set(dataset=world.dataset, kind="csv", mode="incremental")
    run = _upload(world, tmp_path, [{**rows[0], "district": "越秀区"}], name="delta.csv")
    assert run.status == SyncRun.Status.FAILED and "Run a full sync first" in run.error
    sync_config_set(dataset=world.dataset, kind="csv", mode="full")
    run = _upload(world, tmp_path, rows, name="again.csv")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_inserted, run.rows_updated, run.rows_removed) == (10, 0, 10)
    assert {r[3] for r in live_rows(world.dataset)} == {r["birth_date"] for r in rows}


AMOUNT_KEYS = sorted(r["id_number"] for r in population_rows(3, seed=8))  # live_rows' order


def _amounts_run(dataset, amounts: list[str], name: str) -> SyncRun:
    lines = "".join(f"{k},{v}\n" for k, v in zip(AMOUNT_KEYS, amounts, strict=True))
    upload = SimpleUploadedFile(name, f"id_number,amount\n{lines}".encode())
    run = sync_upload_store(dataset=dataset, upload=upload, enqueue=False)
    return engine.run_execute(run_id=run.pk)


@pytest.fixture
def amounts(world):
    fields = [("id_number", "id_card", True), ("amount", "decimal", False)]
    dataset = dataset_of_every_type(provider=world.provider, code="GA-AMT-001", fields=fields)
    assert _amounts_run(dataset, ["1.0", "5", "2.50"], "v1.csv").status == SyncRun.Status.SUCCEEDED
    return dataset


@pytest.mark.django_db
def test_incremental_run_applies_a_decimal_change_of_scale_only(amounts):
    sync_config_set(dataset=amounts, kind="csv", mode="incremental")
    run = _amounts_run(amounts, ["1.00", "5.00", "2.50"], "delta.csv")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_inserted, run.rows_updated) == (0, 2)
    assert [r[1] for r in live_rows(amounts)] == ["1.00", "5.00", "2.50"]


@pytest.mark.django_db
def test_full_run_counts_a_decimal_change_of_scale_only_as_updated(amounts):
    run = _amounts_run(amounts, ["1.00", "5.00", "2.50"], "v2.csv")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_inserted, run.rows_updated, run.rows_removed) == (0, 2, 0)
    assert [r[1] for r in live_rows(amounts)] == ["1.00", "5.00", "2.50"]


@pytest.mark.django_db
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_chinese_encodings_are_detected(world, tmp_path, encoding):
    rows = population_rows(30)
    run = _upload(world, tmp_path, rows, encoding=encoding)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    names = {r[1] for r in live_rows(world.dataset)}
    assert names == {r["name"] for r in rows}


@pytest.mark.django_db
def test_full_width_and_padded_values_are_normalised(world, tmp_path):
    row = population_rows(1)[0]
    fw = "".join(chr(ord(c) + 0xFEE0) for c in row["id_number"])
    messy = {
        **row,
        "id_number": f"  {fw} ",
        "birth_date": "1990年1月5日",
        "mobile": "１３８００１３８０００",
    }
    run = _upload(world, tmp_path, [messy])
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    published = live_rows(world.dataset)[0]
    assert published[0] == row["id_number"]
    assert published[3] == "1990-01-05"
    assert published[4] == "13800138000"


@pytest.mark.django_db
def test_columns_are_matched_by_name_in_any_order(world, tmp_path):
    rows = population_rows(5)
    run = _upload(world, tmp_path, rows, columns=list(reversed(COLUMNS)))
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert sorted(r[0] for r in live_rows(world.dataset)) == sorted(r["id_number"] for r in rows)


@pytest.mark.django_db
@pytest.mark.parametrize("fast_path", [True, False])
def test_a_small_gbk_file_is_published_as_written_not_as_korean(world, settings, fast_path):
    """Exploratory finding F4: three GBK rows, "Detect automatically" chosen, were read as cp949
    and published as 蠟힛1 with no rejection."""
    settings.GOVDATA = {**settings.GOVDATA, "SYNC_FAST_PATH": fast_path}
    rows = [(r["id_number"], f"张三{i}") for i, r in enumerate(population_rows(3, seed=4), 1)]
    text = "id_number,name\n" + "".join(f"{ident},{name}\n" for ident, name in rows)
    upload = SimpleUploadedFile("gbk.csv", text.encode("gbk"))
    run = sync_upload_store(dataset=world.dataset, upload=upload, enqueue=False)
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_inserted, run.rows_rejected) == (3, 3, 0)
    assert [(r[0], r[1]) for r in live_rows(world.dataset)] == sorted(rows)
