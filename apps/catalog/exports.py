"""Writing the published list in the import template (govdata.responsibility_list), so that an
exported file can be edited and imported back."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from govdata.responsibility_list import (
    CSV_DATASET_PREFIX,
    DATASET_COLUMNS,
    DATASET_SHEETS,
    FIELD_COLUMNS,
    FIELD_SHEETS,
)


def _cell(key: str, value: Any) -> str:
    if key == "required":
        return "是" if value else "否"
    if key == "enum_values":
        return "|".join(str(v) for v in value or [])
    return "" if value is None else str(value)


def _dataset_row(snapshot: dict[str, Any]) -> list[str]:
    return [_cell(key, snapshot.get(key)) for key in DATASET_COLUMNS]


def _field_rows(snapshot: dict[str, Any]) -> list[list[str]]:
    rows = []
    for field in snapshot.get("fields", []):
        values = {**field, "dataset_code": snapshot["code"]}
        rows.append([_cell(key, values.get(key)) for key in FIELD_COLUMNS])
    return rows


def export_xlsx(snapshots: Iterable[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

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
        datasets.append(_dataset_row(snapshot))
        for row in _field_rows(snapshot):
            fields.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_csv(snapshots: Iterable[dict[str, Any]]) -> bytes:
    """One row per field with its dataset's columns repeated; UTF-8 with a BOM so that Excel
    opens the Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [CSV_DATASET_PREFIX + zh for zh in DATASET_COLUMNS.values()] + list(FIELD_COLUMNS.values())
    )
    for snapshot in snapshots:
        dataset_row = _dataset_row(snapshot)
        for row in _field_rows(snapshot):
            writer.writerow(dataset_row + row)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
