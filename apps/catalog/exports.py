"""Writing the published list in the import template (govdata.responsibility_list), so that an
exported file can be edited and imported back. Coded values are written as the forms' labels in
the headers' language (每日, 有条件共享, 文本, 内部, 不脱敏), which the import reads back."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from apps.catalog.labels import file_vocabulary
from govdata.responsibility_list import (
    CODED_COLUMNS,
    CSV_DATASET_PREFIX,
    DATASET_COLUMNS,
    DATASET_SHEETS,
    ENUM_SEPARATOR,
    FALSE_CELL,
    FIELD_COLUMNS,
    FIELD_SHEETS,
    TRUE_CELL,
    Vocabulary,
)


def _cell(key: str, value: Any, vocabulary: Vocabulary) -> str:
    if key == "required":
        return TRUE_CELL if value else FALSE_CELL
    if key == "enum_values":
        return ENUM_SEPARATOR.join(str(v) for v in value or [])
    if key in CODED_COLUMNS:
        return vocabulary.word(key, value)
    return "" if value is None else str(value)


def _dataset_row(snapshot: dict[str, Any], vocabulary: Vocabulary) -> list[str]:
    return [_cell(key, snapshot.get(key), vocabulary) for key in DATASET_COLUMNS]


def _field_rows(snapshot: dict[str, Any], vocabulary: Vocabulary) -> list[list[str]]:
    rows = []
    for field in snapshot.get("fields", []):
        values = {**field, "dataset_code": snapshot["code"]}
        rows.append([_cell(key, values.get(key), vocabulary) for key in FIELD_COLUMNS])
    return rows


def export_xlsx(snapshots: Iterable[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    vocabulary = file_vocabulary()
    workbook = Workbook(write_only=False)
    datasets = workbook.active
    datasets.title = DATASET_SHEETS[0]
    fields = workbook.create_sheet(FIELD_SHEETS[0])
    bold = Font(bold=True)
    for sheet, columns in ((datasets, DATASET_COLUMNS), (fields, FIELD_COLUMNS)):
        sheet.append(list(columns.values()))
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
    for snapshot in snapshots:
        datasets.append(_dataset_row(snapshot, vocabulary))
        for row in _field_rows(snapshot, vocabulary):
            fields.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_csv(snapshots: Iterable[dict[str, Any]]) -> bytes:
    """One row per field with its dataset's columns repeated; UTF-8 with a BOM so that Excel
    opens the Chinese text correctly."""
    vocabulary = file_vocabulary()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [CSV_DATASET_PREFIX + zh for zh in DATASET_COLUMNS.values()] + list(FIELD_COLUMNS.values())
    )
    for snapshot in snapshots:
        dataset_row = _dataset_row(snapshot, vocabulary)
        for row in _field_rows(snapshot, vocabulary):
            writer.writerow(dataset_row + row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
