"""Excel .xlsx files, read with openpyxl in read-only (streaming) mode."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.utils.translation import gettext_noop

from govdata.connectors.base import (
    PEEK_ROWS,
    Columns,
    Connector,
    SourceData,
    SourceFormatError,
    header_row_option,
    no_header_row_error,
    register,
)
from govdata.messages import listing


def _cell(value):
    # Excel stores every number as a float; 12.0 in an integer column is meant as 12.
    if type(value) is float and value.is_integer():
        return int(value)
    return value


@register
class XlsxFileConnector(Connector):
    """options: path, sheet (optional name; default the first sheet), header_row (optional:
    the header's row number; default the first row that is not empty)."""

    kind = "xlsx"

    @contextmanager
    def open(self, *, watermark_column=None, since=None) -> Iterator[SourceData]:
        from openpyxl import load_workbook

        path = Path(self.options["path"])
        if not path.exists() or path.stat().st_size == 0:
            raise SourceFormatError(gettext_noop("The file is empty (0 bytes)."), {})
        header_row = header_row_option(self.options)
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except zipfile.BadZipFile:
            # The library's own text ("File is not a zip file") would be English in any language.
            raise SourceFormatError(
                gettext_noop(
                    "The file is not a readable .xlsx workbook: it is not a ZIP archive (an old "
                    ".xls file, or another file renamed to .xlsx)."
                ),
                {},
            ) from None
        except (KeyError, OSError, ValueError) as exc:
            raise _unreadable(exc) from None
        try:
            sheet = _sheet(workbook, self.options.get("sheet"))
            rows = enumerate(sheet.iter_rows(values_only=True), start=1)
            header, header_number = _header(rows, header_row)
            _refuse_what_reads_as_empty(sheet, header_number)
            following = []
            for number, row in rows:
                if any(v is not None for v in row):
                    following.append((number, [_cell(v) for v in row]))
                    if len(following) == PEEK_ROWS:
                        break
            columns = ["" if c is None else str(_cell(c)) for c in header]
            yield SourceData(
                columns=Columns(columns, following=following), rows=_rows(following, rows)
            )
        finally:
            workbook.close()


def _unreadable(exc: Exception) -> SourceFormatError:
    return SourceFormatError(
        gettext_noop("The file is not a readable .xlsx workbook (%(error)s)."), {"error": str(exc)}
    )


def _sheet(workbook, name: str | None):
    if not name:
        return workbook.worksheets[0]
    if name not in workbook.sheetnames:
        raise SourceFormatError(
            gettext_noop("The workbook has no sheet “%(sheet)s”; its sheets are: %(sheets)s."),
            {"sheet": name, "sheets": listing(workbook.sheetnames)},
        )
    return workbook[name]


def _header(rows, header_row: int | None) -> tuple[tuple, int]:
    """(the header, its row number): row `header_row`, or the first row that is not empty."""
    for number, row in rows:
        if header_row is None and any(v is not None and str(v).strip() for v in row):
            return row, number
        if number == header_row:
            return row, number
    if header_row is not None:
        raise no_header_row_error(header_row)
    raise SourceFormatError(gettext_noop("The worksheet is empty."), {})


# The start of a formula element, with or without a namespace prefix (<f>, <f t="shared"/>,
# <x:f>), and of a merged range. A false alert (<filterColumn>) only costs the parse.
_FORMULA_TAGS = (b"<f", b":f>", b":f ", b":f/")
_MERGE_TAG = b"mergeCell"
_ROW_NUMBER = re.compile(r"(\d+)$")
_EXAMPLES = 5


def _refuse_what_reads_as_empty(sheet, header_number: int) -> None:
    """Refuse a sheet whose cells would be read as empty although they are not, from the header
    down: in read-only mode openpyxl gives None for both.

    - A formula without a saved result: a program that writes .xlsx files (not Excel) often
      stores the formula alone; data_only gives None, and the record would get NULL.
    - A merged range: its value is in its first cell only, the others read as None. Filling
      them in would be a guess (a range over several columns would copy one field's value into
      the next field), so the officer unmerges and fills in the cells.

    The sheet's XML is scanned for the two tags first (at decompression speed, no parsing), and
    parsed, streaming, only when one of them is there: constant memory either way."""
    from openpyxl.xml.functions import iterparse  # openpyxl's parser (defusedxml if installed)

    has_formula = has_merge = False
    with sheet._get_source() as source:  # openpyxl's stream of the sheet's XML
        tail = b""
        while chunk := source.read(1 << 20):
            block = tail + chunk
            has_formula = has_formula or any(tag in block for tag in _FORMULA_TAGS)
            has_merge = has_merge or _MERGE_TAG in block
            tail = block[-32:]
    if not (has_formula or has_merge):
        return
    formulas, formula_count, merged = [], 0, []
    try:
        with sheet._get_source() as source:
            parent = None
            for event, element in iterparse(source, events=("start", "end")):
                tag = element.tag.rpartition("}")[2]
                if event == "start":
                    if tag == "sheetData":
                        parent = element
                    continue
                if tag == "c" and _formula_without_value(element):
                    coordinate = element.get("r", "")
                    found = _ROW_NUMBER.search(coordinate)
                    if found is None or int(found[1]) >= header_number:
                        formula_count += 1
                        if len(formulas) < _EXAMPLES:
                            formulas.append(coordinate)
                elif tag == "row" and parent is not None:
                    parent.clear()  # rows read so far: memory stays flat
                elif tag == "mergeCell":
                    ref = element.get("ref", "")
                    found = _ROW_NUMBER.search(ref)
                    if found is None or int(found[1]) > header_number:
                        merged.append(ref)
    except SyntaxError as exc:  # ElementTree's and lxml's parse errors
        raise _unreadable(exc) from None
    if formulas:
        raise SourceFormatError(
            gettext_noop(
                "%(count)d cells hold a formula without a saved value (%(cells)s): the program "
                "that wrote the file did not compute them, and they would be loaded as empty. "
                "Open and save the file in Excel or WPS, or export the values."
            ),
            {"count": formula_count, "cells": ", ".join(formulas)},
        )
    if merged:
        raise SourceFormatError(
            gettext_noop(
                "Cells %(ranges)s are merged: a merged range holds its value in its first cell "
                "only, the others would be loaded as empty. Unmerge them and fill in every cell."
            ),
            {"ranges": listing(merged)},
        )


def _formula_without_value(cell) -> bool:
    formula = value = None
    for child in cell:
        tag = child.tag.rpartition("}")[2]
        if tag == "f":
            formula = child
        elif tag == "v":
            value = child
    if formula is None:
        return False
    if value is not None and value.text:
        return False
    # An empty saved text result ("" from IF(...,"",...)) is a value, as Excel writes it.
    return cell.get("t") not in ("str", "inlineStr")


def _rows(following, rows):
    yield from following
    for number, row in rows:
        if any(v is not None for v in row):
            yield number, [_cell(v) for v in row]
