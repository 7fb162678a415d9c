"""The Arrow fast path for CSV gives exactly the Python path's results: same published records row
by row, same quarantine rows and reasons, same errors and counts; and it steps aside whenever
Arrow could read the file differently from Python's csv module.

These tests run inside a transaction, so the staging table is not visible to other sessions and
the COPY goes over the run's own connection; tests/sync/test_copier.py covers the two-connection
COPY of a real (autocommit) run."""

from __future__ import annotations

import csv
import logging
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sync import arrowfeed, engine
from apps.sync.models import SyncRun
from apps.sync.services import sync_upload_store
from tests.factories import dataset_of_every_type
from tests.sync.fastpath_data import (
    FAST_LOGS,
    FIELDS,
    TRICKY,
    assert_same,
    outcome,
    random_rows,
    to_csv,
    valid_row,
)
from tests.sync.helpers import COLUMNS, make_id, population_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def ds(world):
    return dataset_of_every_type(provider=world.provider, code="GA-FAST-001", fields=FIELDS)


@pytest.fixture
def small_blocks(monkeypatch):
    """Arrow batches of a few rows each, so batch boundaries fall everywhere."""
    monkeypatch.setattr(arrowfeed, "BLOCK_BYTES", 2048)
    monkeypatch.setattr(arrowfeed, "READ_BYTES", 1000)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_valid_and_invalid_rows_give_identical_results(ds, caplog, seed):
    rows = random_rows(400, seed)
    result = assert_same(ds, caplog, [(to_csv(rows), {})], fast_runs=1)
    assert result[0]["status"] == SyncRun.Status.SUCCEEDED
    assert 0 < result[0]["counts"][1] < 400  # both accepted and quarantined rows were compared


def test_all_tricky_values_of_every_field_are_compared(ds, caplog):
    rng = random.Random(7)
    rows = []
    for name, values in TRICKY.items():
        for i in range(len(values)):
            row = valid_row(rng, make_id(rng))
            row[name] = values[i].format(
                id=row["id_number"],
                id_lower=row["id_number"][:17] + "x",
                id_bad=row["id_number"][:17] + "Y",
                id_tail=row["id_number"][1:],
                cc=row["employer"],
                cc_lower=row["employer"].lower(),
                cc_bad=row["employer"][:17] + "I",
            )
            rows.append(row)
    result = assert_same(ds, caplog, [(to_csv(rows), {})], fast_runs=1)
    assert result[0]["status"] == SyncRun.Status.SUCCEEDED


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8"])
def test_chinese_encodings_give_identical_results(ds, caplog, encoding):
    rows = random_rows(150, 11)
    assert_same(ds, caplog, [(to_csv(rows, encoding=encoding), {})], fast_runs=1)


def test_quoted_fields_and_crlf_take_the_fast_path(ds, caplog):
    rows = random_rows(100, 12)
    data = to_csv(rows, quoting=csv.QUOTE_ALL, eol="\r\n")
    assert_same(ds, caplog, [(data, {})], fast_runs=1)


def test_incremental_runs_with_a_watermark_give_identical_results(ds, caplog):
    rows = random_rows(200, 13, bad_share=0.0)
    delta = [{**r, "address": r["address"] + "（已迁出）"} for r in rows[::10]]
    delta += random_rows(20, 14)
    steps = [
        (to_csv(rows), {"watermark": "updated"}),
        (to_csv(delta), {"mode": "incremental", "watermark": "updated"}),
    ]
    result = assert_same(ds, caplog, steps, fast_runs=2)
    assert result[1]["status"] == SyncRun.Status.SUCCEEDED and result[1]["counts"][3] > 0
    assert result[1]["watermark"]


def test_threshold_abort_after_reading_the_whole_file_has_the_same_counts_and_quarantine(
    ds, caplog
):
    rows = random_rows(1200, 15, bad_share=0.0) + random_rows(800, 16, bad_share=0.6)
    result = assert_same(
        ds, caplog, [(to_csv(rows), {"threshold": 0.05, "batch_rows": 100})], fast_runs=1
    )
    assert result[0]["status"] == SyncRun.Status.FAILED and "limit of 5.0%" in result[0]["error"]
    assert result[0]["counts"][0] == 2000  # the share of the whole file is what is judged


def test_final_threshold_abort_and_duplicate_keys_are_identical(ds, caplog):
    rows = random_rows(60, 17, bad_share=0.5)
    dup = random_rows(30, 18, bad_share=0.0)
    dup[20] = {**dup[20], "id_number": dup[3]["id_number"]}
    steps = [(to_csv(rows), {"threshold": 0.05}), (to_csv(dup), {})]
    result = assert_same(ds, caplog, steps, fast_runs=2)
    assert result[0]["status"] == result[1]["status"] == SyncRun.Status.FAILED
    assert "5, 22" in result[1]["error"]


# --- batch boundaries ---------------------------------------------------------------------------
@pytest.mark.parametrize("batch_rows", [1, 7, 64])
def test_flushes_replayed_across_small_arrow_batches_give_identical_results(
    ds, caplog, small_blocks, batch_rows
):
    rows = random_rows(300, 30 + batch_rows, bad_share=0.3)
    steps = [(to_csv(rows), {"batch_rows": batch_rows})]
    assert_same(ds, caplog, steps, fast_runs=1)


def test_threshold_abort_after_small_arrow_batches_is_identical(ds, caplog, small_blocks):
    rows = random_rows(1100, 40, bad_share=0.0) + random_rows(400, 41, bad_share=0.7)
    steps = [(to_csv(rows), {"threshold": 0.03, "batch_rows": 9})]
    result = assert_same(ds, caplog, steps, fast_runs=1)
    assert result[0]["status"] == SyncRun.Status.FAILED and "limit of 3.0%" in result[0]["error"]


def test_values_needing_the_slow_closure_mid_batch_keep_their_normal_form(ds, caplog, small_blocks):
    rows = random_rows(200, 42, bad_share=0.0)
    for i in range(3, 200, 17):  # full-width, padded and lower-case values among plain ones
        rows[i]["id_number"] = " " + rows[i]["id_number"].replace("X", "x") + "\u3000"
        rows[i]["mobile"] = "+86 " + rows[i]["mobile"][:3] + "-" + rows[i]["mobile"][3:]
        rows[i]["income"] = "１,２34.50"
        rows[i]["household"] = " 0０7 "
    result = assert_same(ds, caplog, [(to_csv(rows), {})], fast_runs=1)
    assert result[0]["counts"][:2] == (200, 0)


def test_a_memo_full_of_distinct_values_gives_identical_results(ds, caplog, monkeypatch):
    from apps.sync import columns

    monkeypatch.setattr(columns, "MEMO_LIMIT", 5)
    rows = random_rows(120, 43, bad_share=0.3)
    assert_same(ds, caplog, [(to_csv(rows), {})], fast_runs=1)


# --- shapes the two parsers read differently: the Python path reads them ------------------------
def _population_csv(rows=None, columns=COLUMNS, encoding="utf-8") -> bytes:
    rows = population_rows(8) if rows is None else rows
    return to_csv(rows, columns=columns, encoding=encoding)


def _bad_inputs():
    good = _population_csv()
    lines = good.split(b"\n")
    return {
        "wrong encoding": (_population_csv(encoding="gbk"), {"encoding": "utf-8"}),
        "missing key column": (_population_csv(columns=COLUMNS[1:]), {}),
        "extra columns": (
            _population_csv([{**r, "notes": "x"} for r in population_rows(3)], [*COLUMNS, "n"]),
            {},
        ),
        "broken quotes": (good + b'"unclosed,quote\n', {}),
        "header only": (_population_csv([]), {}),
        "short row": (good + b"110101199001011237,x\n", {}),
        "long row": (good.rstrip(b"\n") + b",extra\n", {}),
        "blank line": (b"\n".join([*lines[:3], b"", *lines[3:]]), {}),
        "blank line with crlf": (
            good.replace(b"\n", b"\r\n", 3).replace(b"\r\n", b"\r\n\r\n", 1),
            {},
        ),
        "blank first line": (b"\n" + good, {}),
        "quote inside a field": (good.replace(b"\xe5\xb9\xbf", b'a"b', 1), {}),
        "text after a quoted field": (good.replace(b"\n", b'\n"x"y,', 1), {}),
        "bom with utf-8 chosen": (b"\xef\xbb\xbf" + good, {"encoding": "utf-8"}),
        "bom with utf_8 chosen": (b"\xef\xbb\xbf" + good, {"encoding": "utf_8"}),
        "semicolons": (good.replace(b",", b";"), {"delimiter": ";"}),
        "tabs": (good.replace(b",", b"\t"), {"delimiter": "\t"}),
        "invalid utf-8 late": (good + b"110101199001011237,\xff\xfe,,,,,,\n", {}),
        "unknown encoding": (good, {"encoding": "no-such-codec"}),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
def test_bad_inputs_give_identical_results(world, caplog, case):
    data, step = _bad_inputs()[case]
    baseline = (_population_csv(population_rows(5, seed=40)), {})
    assert_same(world.dataset, caplog, [baseline, (data, step)])


@pytest.mark.parametrize(
    "damage",
    [
        lambda lines: [*lines[:-40], b"", *lines[-40:]],  # a blank line
        lambda lines: [*lines[:-40], lines[-40].replace(b",", b',"q"x,', 1), *lines[-39:]],
        lambda lines: [*lines[:-40], lines[-40] + b",extra", *lines[-39:]],  # a wider row
        lambda lines: [*lines[:-40], lines[-40].replace(b"\xe5", b"\xff", 1), *lines[-39:]],
    ],
    ids=["blank line", "text after a quote", "wider row", "invalid utf-8"],
)
def test_a_late_disagreement_falls_back_to_the_python_path_with_identical_results(
    ds, caplog, small_blocks, damage
):
    lines = to_csv(random_rows(400, 44, bad_share=0.1)).split(b"\n")
    data = b"\n".join(damage(lines))
    steps = [(data, {"batch_rows": 25, "encoding": "utf-8"})]
    assert_same(ds, caplog, steps, fast_runs=0)


@pytest.mark.parametrize(
    "damage",
    [lambda line: b"", lambda line: line.replace(b",", b',x"y,', 1)],
    ids=["blank line", "quote in a field"],
)
def test_a_late_disagreement_in_a_file_over_the_threshold_is_left_to_the_python_path(
    ds, caplog, small_blocks, damage
):
    rows = random_rows(1100, 45, bad_share=0.0) + random_rows(600, 46, bad_share=0.8)
    lines = to_csv(rows).split(b"\n")
    data = b"\n".join([*lines[:-30], damage(lines[-30]), *lines[-29:]])  # near the end
    steps = [(data, {"threshold": 0.1, "batch_rows": 50})]
    # The threshold is judged after the whole file, so the fast path always meets the damage.
    result = assert_same(ds, caplog, steps, fast_runs=0)
    assert result[0]["status"] == SyncRun.Status.FAILED


def test_a_line_over_the_csv_field_limit_is_left_to_the_python_path(ds, caplog, monkeypatch):
    monkeypatch.setattr(arrowfeed, "FIELD_LIMIT", 50)
    rows = random_rows(20, 21, bad_share=0.0)
    rows[5]["address"] = "长" * 40
    assert_same(ds, caplog, [(to_csv(rows), {})], fast_runs=0)


# --- switching ----------------------------------------------------------------------------------
def test_the_engine_picks_the_python_path_when_switched_off(ds, caplog):
    caplog.set_level(logging.INFO, logger="apps.sync.fastpath")
    _, used = outcome(ds, [(to_csv(random_rows(5, 19)), {})], fast=False, caplog=caplog)
    assert used == 0
    _, used = outcome(ds, [(to_csv(random_rows(5, 19)), {})], fast=True, caplog=caplog)
    assert used == 1


def test_the_fast_path_is_on_by_default(ds, caplog):
    caplog.set_level(logging.INFO, logger="apps.sync.fastpath")
    data = to_csv(random_rows(5, 20))
    run = sync_upload_store(dataset=ds, upload=SimpleUploadedFile("d.csv", data), enqueue=False)
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert any(FAST_LOGS[0] in r.getMessage() for r in caplog.records)
