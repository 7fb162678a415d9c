"""The CSV fast path (PostgreSQL parses and validates) gives exactly the Python path's results:
same published records row by row, same quarantine rows and reasons, same errors and counts."""

from __future__ import annotations

import csv
import io
import logging
import random

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings

from apps.catalog.models import Dataset, Field
from apps.records import store
from apps.sync import engine
from apps.sync.models import SyncConfig, SyncRejection, SyncRun
from apps.sync.services import sync_config_set, sync_upload_store
from tests.sync.helpers import COLUMNS, live_rows, make_credit_code, make_id, population_rows

pytestmark = pytest.mark.django_db

FIELDS = [
    ("id_number", "id_card", True),
    ("name", "string", True),
    ("gender", "enum", False),
    ("birth_date", "date", False),
    ("mobile", "mobile", False),
    ("address", "string", False),
    ("employer", "credit_code", False),
    ("income", "decimal", False),
    ("household", "integer", False),
    ("registered", "date", False),
    ("insured", "boolean", False),
    ("seen_at", "datetime", False),
    ("updated", "string", False),
]
NAMES = [f[0] for f in FIELDS]
TRICKY = {
    "id_number": [
        "",
        " {id} ",
        "{id_lower}",
        "{id_bad}",
        "11010119990230123X",
        "９{id_tail}",
        "99999919800101123",
        "110101290001011234",
        "abc",
    ],
    "name": ["", "  ", "\u3000李四\u3000", '王"五', "赵,六", "陈\n七", "ＡＢＣ"],
    "gender": ["男", " 女 ", "X", "", "男 "],
    "birth_date": [
        "2020-01-05",
        "2020/1/5",
        "2020年1月5日",
        "20200105",
        "2020-02-30",
        "1799-12-31",
        "2201-01-01",
        "２０２０-01-05",
        " 2020-01-05 ",
        "2020 / 1 / 5",
        "abc",
        "",
        "0000-01-01",
        "2020.12.31",
        "2000-02-29",
        "1900-02-29",
        "2020-1-05",
        "2020年01月05",
    ],
    "mobile": [
        "13812345678",
        "+86 138 1234 5678",
        "12345",
        "",
        "138-1234-5678",
        "１３８１２３４５６７８",
    ],
    "address": ["", " 甲,乙 ", '"引号"', "x\r\ny", "\ufeff门牌"],
    "employer": ["{cc}", "{cc_lower}", "{cc_bad}", "91I10000MA00000000", "", " {cc} "],
    "income": [
        "123.45",
        "-0.5",
        "1,234.5",
        "1e3",
        "NaN",
        "abc",
        "",
        "007.50",
        ".5",
        "+1",
        "-0",
        "１２.５",
    ],
    "household": [
        "7",
        "007",
        "+5",
        "-3",
        "1,000",
        "99999999999999999999",
        "x",
        "",
        "１２",
        "9223372036854775807",
        "000000000000000000000001",
    ],
    "registered": ["2019/3/7", "2019-03-07", "2019/13/1", ""],
    "insured": ["是", "否", "TRUE", "yes", "Y", "maybe", "", "ｙｅｓ", "Off", " 1 "],
    "seen_at": ["2024-01-02 03:04:05", "2024/01/02", "bad", "", "2024-01-02T03:04:05+08:00"],
    "updated": ["2024-01-01", "2024-02-01", "", "2023-12-31"],
}


@pytest.fixture
def ds(world):
    dataset = Dataset.objects.create(
        code="GA-FAST-001",
        name="fast path",
        provider=world.provider,
        key_field="id_number",
        sharing_type="unconditional",
    )
    for pos, (name, dtype, required) in enumerate(FIELDS):
        Field.objects.create(
            dataset=dataset,
            name=name,
            label=name,
            data_type=dtype,
            sharing_type="unconditional",
            position=pos,
            required=required,
            enum_values=["男", "女"] if dtype == "enum" else [],
        )
    return dataset


def _valid_row(rng: random.Random, ident: str) -> dict:
    return {
        "id_number": ident,
        "name": rng.choice("张王李赵") + rng.choice(["伟", "芳"]),
        "gender": rng.choice(["男", "女"]),
        "birth_date": f"{ident[6:10]}-{ident[10:12]}-{ident[12:14]}",
        "mobile": f"13{rng.randint(0, 999999999):09d}",
        "address": f"体育西路{rng.randint(1, 99)}号",
        "employer": make_credit_code(rng),
        "income": f"{rng.randint(0, 9999)}.{rng.randint(0, 99):02d}",
        "household": str(rng.randint(1, 9)),
        "registered": f"20{rng.randint(10, 23)}/{rng.randint(1, 12)}/{rng.randint(1, 28)}",
        "insured": rng.choice(["是", "否"]),
        "seen_at": "",
        "updated": f"2024-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
    }


def _tricky(rng: random.Random, name: str, row: dict) -> str:
    ident, cc = row["id_number"], row["employer"]
    bad_check = ident[:17] + ("0" if ident[17] != "0" else "1")
    bad_cc = cc[:17] + ("0" if cc[17] != "0" else "1")
    return rng.choice(TRICKY[name]).format(
        id=ident,
        id_lower=ident[:17] + "x",
        id_bad=bad_check,
        id_tail=ident[1:],
        cc=cc,
        cc_lower=cc.lower(),
        cc_bad=bad_cc,
    )


def random_rows(n: int, seed: int, bad_share: float = 0.2) -> list[dict]:
    rng = random.Random(seed)
    rows, seen = [], set()
    while len(rows) < n:
        ident = make_id(rng)
        if ident in seen:
            continue
        seen.add(ident)
        row = _valid_row(rng, ident)
        if rng.random() < bad_share:
            clean = dict(row)
            for name in rng.sample(NAMES, rng.randint(1, 3)):
                row[name] = _tricky(rng, name, clean)
        rows.append(row)
    return rows


def to_csv(rows, columns=NAMES, encoding="utf-8", quoting=csv.QUOTE_MINIMAL, eol="\n") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=eol, quoting=quoting)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return buffer.getvalue().encode(encoding)


def _reset(dataset) -> None:
    with connection.cursor() as cursor:
        store.drop_table(cursor, store.live_table(dataset.pk))
    SyncConfig.objects.filter(dataset=dataset).update(watermark_value="")


def _outcome(dataset, steps, *, fast: bool, caplog) -> tuple[list, int]:
    """Run the steps (data, upload options) on an empty dataset; what each step left behind."""
    results = []
    caplog.clear()
    with override_settings(GOVDATA={**settings.GOVDATA, "SYNC_SQL_FAST_PATH": fast}):
        _reset(dataset)
        for data, step in steps:
            sync_config_set(
                dataset=dataset,
                kind="csv",
                mode=step.get("mode", "full"),
                reject_threshold=step.get("threshold", 1.0),
                watermark_column=step.get("watermark", ""),
                options={k: step[k] for k in ("batch_rows", "delimiter") if k in step},
                scheduled=False,
            )
            upload = SimpleUploadedFile("f.csv", data)
            run = sync_upload_store(
                dataset=dataset, upload=upload, encoding=step.get("encoding", ""), enqueue=False
            )
            run = engine.run_execute(run_id=run.pk)
            quarantine = sorted(
                SyncRejection.objects.filter(run=run).values_list(
                    "row_number", "field", "reason", "value"
                )
            )
            results.append(
                {
                    "status": run.status,
                    "error": run.error,
                    "counts": (
                        run.rows_read,
                        run.rows_rejected,
                        run.rows_inserted,
                        run.rows_updated,
                        run.rows_removed,
                    ),
                    "watermark": run.watermark_after,
                    "records": live_rows(dataset),
                    "quarantine": quarantine,
                }
            )
    fast_runs = sum("SQL fast path" in r.getMessage() for r in caplog.records)
    return results, fast_runs


def assert_same(dataset, caplog, steps, *, fast_runs: int | None = None) -> list:
    caplog.set_level(logging.INFO, logger="apps.sync.fastpath")
    python, none_fast = _outcome(dataset, steps, fast=False, caplog=caplog)
    assert none_fast == 0
    fast, used = _outcome(dataset, steps, fast=True, caplog=caplog)
    for step, (want, got) in enumerate(zip(python, fast, strict=True)):
        for key in want:
            assert got[key] == want[key], f"step {step}: {key} differs"
    if fast_runs is not None:
        assert used == fast_runs
    return python


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
            row = _valid_row(rng, make_id(rng))
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


def test_early_threshold_abort_has_the_same_counts_and_quarantine(ds, caplog):
    rows = random_rows(1200, 15, bad_share=0.0) + random_rows(800, 16, bad_share=0.6)
    result = assert_same(
        ds, caplog, [(to_csv(rows), {"threshold": 0.05, "batch_rows": 100})], fast_runs=1
    )
    assert result[0]["status"] == SyncRun.Status.FAILED and "limit of 5.0%" in result[0]["error"]
    assert result[0]["counts"][0] < 2000  # aborted early, at a batch boundary


def test_final_threshold_abort_and_duplicate_keys_are_identical(ds, caplog):
    rows = random_rows(60, 17, bad_share=0.5)
    dup = random_rows(30, 18, bad_share=0.0)
    dup[20] = {**dup[20], "id_number": dup[3]["id_number"]}
    steps = [(to_csv(rows), {"threshold": 0.05}), (to_csv(dup), {})]
    result = assert_same(ds, caplog, steps, fast_runs=2)
    assert result[0]["status"] == result[1]["status"] == SyncRun.Status.FAILED
    assert "5, 22" in result[1]["error"]


# The bad-input fixtures of test_bad_input.py (on the population dataset), and CSV shapes that
# PostgreSQL reads differently from Python: all give the Python path's result.
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
        "quote inside a field": (good.replace(b"\xe5\xb9\xbf", b'a"b', 1), {}),
        "text after a quoted field": (good.replace(b"\n", b'\n"x"y,', 1), {}),
        "end-of-data marker": (b"\n".join([*lines[:4], b"\\.", *lines[4:]]), {}),
        "bom with utf-8 chosen": (b"\xef\xbb\xbf" + good, {"encoding": "utf-8"}),
        "bom with utf_8 chosen": (b"\xef\xbb\xbf" + good, {"encoding": "utf_8"}),
        "semicolons": (good.replace(b",", b";"), {"delimiter": ";"}),
        "invalid utf-8 late": (good + b"110101199001011237,\xff\xfe,,,,,,\n", {}),
    }


@pytest.mark.parametrize("case", list(_bad_inputs()))
def test_bad_inputs_give_identical_results(world, caplog, case):
    data, step = _bad_inputs()[case]
    baseline = (_population_csv(population_rows(5, seed=40)), {})
    assert_same(world.dataset, caplog, [baseline, (data, step)])


def test_the_engine_picks_the_python_path_when_switched_off(ds, caplog):
    caplog.set_level(logging.INFO, logger="apps.sync.fastpath")
    _, used = _outcome(ds, [(to_csv(random_rows(5, 19)), {})], fast=False, caplog=caplog)
    assert used == 0
    _, used = _outcome(ds, [(to_csv(random_rows(5, 19)), {})], fast=True, caplog=caplog)
    assert used == 1


def test_the_fast_path_is_off_by_default(ds, caplog):
    caplog.set_level(logging.INFO, logger="apps.sync.fastpath")
    data = to_csv(random_rows(5, 20))
    run = sync_upload_store(dataset=ds, upload=SimpleUploadedFile("d.csv", data), enqueue=False)
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert not any("SQL fast path" in r.getMessage() for r in caplog.records)


def test_a_line_over_the_csv_field_limit_is_left_to_the_python_path(ds, caplog, monkeypatch):
    from apps.sync import fastpath

    monkeypatch.setattr(fastpath, "FIELD_LIMIT", 50)
    rows = random_rows(20, 21, bad_share=0.0)
    rows[5]["address"] = "长" * 40
    assert_same(ds, caplog, [(to_csv(rows), {})], fast_runs=0)
