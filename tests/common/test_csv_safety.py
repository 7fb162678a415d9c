"""apps.common.csv_safety: cells a spreadsheet would run as formulas are written as text."""

from __future__ import annotations

import pytest

from apps.common.csv_safety import csv_safe


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=1+1", "'=1+1"),
        ("+8613800000000", "'+8613800000000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝HYPERLINK(1)", "'＝HYPERLINK(1)"),  # full-width, as CJK input methods type it
        ("13800000000", "13800000000"),
        ("a=b", "a=b"),
        ("", ""),
        (7, 7),
        (None, None),
    ],
)
def test_a_cell_that_a_spreadsheet_would_take_for_a_formula_is_kept_as_text(value, shown):
    assert csv_safe(value) == shown
