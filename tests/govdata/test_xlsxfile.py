"""The .xlsx connector: what openpyxl's streaming mode reads as empty although the cell is not
(a formula without its saved result, the covered cells of a merged range) is refused, never
loaded as NULL; sheets and header rows as officers' workbooks have them."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import Workbook

from govdata.connectors.base import SourceFormatError
from govdata.connectors.xlsxfile import XlsxFileConnector

HEADER = ["id_number", "name", "cnt", "note"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _rows(n: int = 3) -> list[list]:
    return [[f"44010619900101{i:03d}X", f"张三{i}", i, "备注"] for i in range(n)]


def _book(path: Path, rows: list[list], *, title: str | None = None, merge: str = "") -> Path:
    book = Workbook()
    sheet = book.active
    if title:
        sheet.append([title])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    book.save(path)
    return path


def _read(path: Path, **options) -> tuple[list[str], list[tuple[int, list]]]:
    connector = XlsxFileConnector(options={"path": str(path), **options}, secrets={})
    with connector.open() as data:
        return list(data.columns), [(n, list(r)) for n, r in data.rows]


def _with_saved_results(path: Path, results: dict[str, str]) -> Path:
    """The workbook as Excel saves it: each formula with its computed result (openpyxl writes
    formulas alone). `results`: cell -> the <c> element's attributes and value to write."""
    with zipfile.ZipFile(path) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    for cell, (kind, value) in results.items():
        xml = re.sub(
            rf'<c r="{cell}"([^>]*)><f>([^<]*)</f><v\s*/>',
            rf'<c r="{cell}"\1{kind}><f>\2</f><v>{value}</v>',
            xml,
        )
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in parts.items():
            target.writestr(name, data)
    return path


def test_formulas_without_a_saved_result_are_refused_naming_the_cells(tmp_path):
    rows = _rows(3)
    for i, row in enumerate(rows, start=2):
        row[2] = f"=ROW()*{i}"
    path = _book(tmp_path / "f.xlsx", rows)
    with pytest.raises(SourceFormatError) as caught:
        _read(path)
    assert caught.value.params == {"count": 3, "cells": "C2, C3, C4"}
    assert "Open and save the file in Excel" in str(caught.value)


def test_formulas_with_their_saved_results_are_read_as_the_results(tmp_path):
    rows = _rows(2)
    rows[0][2], rows[1][2] = "=1+1", '=IF(TRUE,"","x")'
    path = _book(tmp_path / "f.xlsx", rows)
    _with_saved_results(path, {"C2": ("", "2"), "C3": (' t="str"', "")})  # "" is a result
    _columns, read = _read(path)
    assert [r[2] for _n, r in read] == [2, None]


def test_merged_cells_are_refused_naming_the_ranges(tmp_path):
    path = _book(tmp_path / "m.xlsx", _rows(4), merge="D2:D4")
    with pytest.raises(SourceFormatError, match="Cells D2:D4 are merged"):
        _read(path)


def test_a_merged_title_above_the_header_is_no_data(tmp_path):
    path = _book(tmp_path / "t.xlsx", _rows(2), title="人口基本信息（2026年1月）", merge="A1:D1")
    columns, read = _read(path, header_row=2)
    assert columns == HEADER and [n for n, _r in read] == [3, 4]


def test_a_title_row_leaves_the_header_among_the_rows_that_follow(tmp_path):
    path = _book(tmp_path / "t.xlsx", _rows(2), title="人口基本信息（2026年1月）")
    connector = XlsxFileConnector(options={"path": str(path)}, secrets={})
    with connector.open() as data:
        assert data.columns == ["人口基本信息（2026年1月）", "", "", ""]
        assert data.columns.following[0] == (2, HEADER)  # for the row validator's hint


def test_blank_rows_above_the_header_are_skipped(tmp_path):
    book = Workbook()
    book.active.append([])
    book.active.cell(row=3, column=1, value="id_number")
    book.active.cell(row=4, column=1, value="44010619900101000X")
    book.save(tmp_path / "b.xlsx")
    assert _read(tmp_path / "b.xlsx") == (["id_number"], [(4, ["44010619900101000X"])])


def test_a_sheet_that_does_not_exist_is_named_with_the_workbooks_sheets(tmp_path):
    path = _book(tmp_path / "s.xlsx", _rows(1))
    with pytest.raises(SourceFormatError) as caught:
        _read(path, sheet="不存在")
    assert str(caught.value) == "The workbook has no sheet “不存在”; its sheets are: Sheet."


@pytest.mark.parametrize("header_row", [0, "x", 1.5])
def test_header_row_must_be_a_row_number(tmp_path, header_row):
    path = _book(tmp_path / "h.xlsx", _rows(1))
    with pytest.raises(SourceFormatError, match="header_row"):
        _read(path, header_row=header_row)


def test_a_header_row_past_the_end_is_named(tmp_path):
    path = _book(tmp_path / "h.xlsx", _rows(1))
    with pytest.raises(SourceFormatError, match="no row 9"):
        _read(path, header_row=9)
