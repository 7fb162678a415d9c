"""Shared data of the fast-path tests: a dataset with a field of every type, random rows with
every tricky value of every field, and the comparison of a fast-path run with a Python-path run
(published rows row by row, quarantine rows and reasons, counts, errors, watermark)."""

from __future__ import annotations

import csv
import io
import logging
import random

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings

from apps.records import store
from apps.sync import engine
from apps.sync.models import SyncConfig, SyncRejection
from apps.sync.services import sync_config_set, sync_upload_store
from tests.sync.helpers import live_rows, make_credit_code, make_id

FAST_LOGS = ("Arrow fast path done", "Arrow fast path stopped")  # runs it finished

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


def valid_row(rng: random.Random, ident: str) -> dict:
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


def tricky(rng: random.Random, name: str, row: dict) -> str:
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
        row = valid_row(rng, ident)
        if rng.random() < bad_share:
            clean = dict(row)
            for name in rng.sample(NAMES, rng.randint(1, 3)):
                row[name] = tricky(rng, name, clean)
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


def outcome(dataset, steps, *, fast: bool, caplog) -> tuple[list, int]:
    """Run the steps (data, upload options) on an empty dataset; what each step left behind, and
    how many runs the fast path finished."""
    results = []
    caplog.clear()
    with override_settings(GOVDATA={**settings.GOVDATA, "SYNC_FAST_PATH": fast}):
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
    fast_runs = sum(any(s in r.getMessage() for s in FAST_LOGS) for r in caplog.records)
    return results, fast_runs


def assert_same(dataset, caplog, steps, *, fast_runs: int | None = None) -> list:
    """The fast path's results equal the Python path's, step by step; returns the latter."""
    caplog.set_level(logging.INFO, logger="apps.sync.fastpath")
    python, none_fast = outcome(dataset, steps, fast=False, caplog=caplog)
    assert none_fast == 0
    fast, used = outcome(dataset, steps, fast=True, caplog=caplog)
    for step, (want, got) in enumerate(zip(python, fast, strict=True)):
        for key in want:
            assert got[key] == want[key], f"step {step}: {key} differs"
    if fast_runs is not None:
        assert used == fast_runs
    return python
