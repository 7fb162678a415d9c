"""Column-wise validation of Arrow batches equals `RowValidator.row` row by row: the same rows
refused, the same normal form of every accepted value, across batches and memo limits."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random

import pyarrow as pa
import pytest

from apps.sync import columns
from apps.sync.columns import BatchValidator
from govdata.rows import RowValidator
from govdata.validation import FieldSpec
from tests.sync.fastpath_data import FIELDS, NAMES, random_rows
from tests.sync.helpers import make_id

SPECS = [FieldSpec(n, t, r, ("男", "女") if t == "enum" else ()) for n, t, r in FIELDS]


def _with_check(body: str) -> str:
    check = (1 - 2 * int(body, 13)) % 11
    return body + ("X" if check == 10 else str(check))


def _batch(rows: list[list[str]], width: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array([r[i] for r in rows], pa.string()) for i in range(width)],
        names=[f"f{i}" for i in range(width)],
    )


def _expected(validator: RowValidator, raw: list[str]):
    line = validator.row(raw, 0)
    if line is None:
        return None
    values = next(csv.reader(io.StringIO(line)))[1:]
    return [v or None for v in values]  # NULL is the only empty value in the Python path's CSV


def _assert_batches_match(source_columns, rows, batch_size: int) -> int:
    validator = RowValidator(specs=SPECS, source_columns=source_columns, key_field="id_number")
    check = BatchValidator(validator)
    refused = 0
    for start in range(0, len(rows), batch_size):
        chunk = rows[start : start + batch_size]
        values, failed = check.validate(_batch(chunk, len(source_columns)))
        got_rows = list(zip(*[v.to_pylist() for v in values], strict=True))
        for i, raw in enumerate(chunk):
            want = _expected(validator, raw)
            assert bool(failed[i]) == (want is None), raw
            if want is not None:
                assert list(got_rows[i]) == want, raw
            refused += want is None
    return refused


@pytest.mark.parametrize("batch_size", [1, 13, 500])
def test_random_rows_validate_as_row_by_row(batch_size):
    rows = [[r[n] for n in NAMES] for r in random_rows(500, 60, bad_share=0.4)]
    refused = _assert_batches_match(NAMES, rows, batch_size)
    assert 0 < refused < 500


def test_a_memo_limit_reached_mid_run_changes_nothing(monkeypatch):
    monkeypatch.setattr(columns, "MEMO_LIMIT", 3)
    rows = [[r[n] for n in NAMES] for r in random_rows(200, 61, bad_share=0.4)]
    _assert_batches_match(NAMES, rows, 37)


def test_id_numbers_at_the_edges_of_the_vectorised_check():
    rng = random.Random(62)
    today = dt.date.today()

    def with_birth(birth: str) -> str:
        return make_id(rng, birth=birth)

    tomorrow = today + dt.timedelta(days=1)
    idents = [
        with_birth(today.strftime("%Y%m%d")),
        with_birth(tomorrow.strftime("%Y%m%d")),
        with_birth("18000101"),
        with_birth("17991231"),
        with_birth("20000229"),
        with_birth("19000229"),
        with_birth("20210431"),
        with_birth("20211301"),
        with_birth("20210100"),
        _with_check("999999" + "19800101" + "123"),  # unknown region
        _with_check("110101" + "19800101" + "123"),
        with_birth("19800101")[:17] + "Z",
        "１" + with_birth("19800101")[1:],
        "",
        " " + with_birth("19800101"),
        "1101011980010112\u00e9",
    ]
    first = random_rows(1, 63, bad_share=0.0)[0]
    base = [first[n] for n in NAMES]
    rows = [[ident, *base[1:]] for ident in idents]
    _assert_batches_match(NAMES, rows, 4)


def test_columns_in_another_order_and_missing_optional_ones_map_by_name():
    order = [n for n in reversed(NAMES) if n not in ("mobile", "seen_at")]
    rows = [[r[n] for n in order] for r in random_rows(120, 64, bad_share=0.3)]
    _assert_batches_match(order, rows, 50)


def test_a_batch_whose_key_column_is_all_empty_refuses_every_row():
    first = random_rows(1, 65, bad_share=0.0)[0]
    rows = [["", *[first[n] for n in NAMES[1:]]] for _ in range(5)]
    assert _assert_batches_match(NAMES, rows, 5) == 5
