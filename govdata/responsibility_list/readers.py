"""Reading .xlsx, CSV and YAML files into the two tables the validation works on."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from govdata.responsibility_list.model import (
    CSV_DATASET_PREFIX,
    DATASET_COLUMNS,
    DATASET_SHEETS,
    ENUM_SEPARATOR,
    FIELD_COLUMNS,
    FIELD_SHEETS,
    REQUIRED_DATASET_COLUMNS,
    REQUIRED_FIELD_COLUMNS,
    DatasetSpec,
    ListError,
    ResponsibilityListError,
    Vocabulary,
    _,
)
from govdata.responsibility_list.validate import _Table, build_specs


def _find_sheet(names: list[str], wanted: tuple[str, ...]) -> str | None:
    lowered = {n.strip().lower(): n for n in names}
    for candidate in wanted:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def parse_xlsx(
    data: bytes, filename: str = "", vocabulary: Vocabulary | None = None
) -> list[DatasetSpec]:
    from openpyxl import load_workbook

    if not zipfile.is_zipfile(io.BytesIO(data)):
        # Any name but .csv/.yaml/.yml comes here: say which formats are read (CSV and YAML
        # are, by their file name), not only that this one is not a workbook.
        raise ResponsibilityListError(
            [
                ListError(
                    "",
                    None,
                    "",
                    _(
                        "“%(name)s” is not an .xlsx workbook. Accepted: an Excel workbook "
                        "(.xlsx), a CSV file as exported (.csv, UTF-8) or YAML (.yaml, .yml); "
                        "old .xls workbooks cannot be read."
                    ),
                    {"name": filename or "?"},
                )
            ]
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a corrupt archive
        raise ResponsibilityListError(
            [ListError("", None, "", _("The workbook cannot be read: %(e)s"), {"e": str(exc)})]
        ) from exc
    try:
        tables = []
        for wanted, columns, required in (
            (DATASET_SHEETS, DATASET_COLUMNS, REQUIRED_DATASET_COLUMNS),
            (FIELD_SHEETS, FIELD_COLUMNS, REQUIRED_FIELD_COLUMNS),
        ):
            name = _find_sheet(workbook.sheetnames, wanted)
            if name is None:
                raise ResponsibilityListError(
                    [
                        ListError(
                            wanted[0],
                            None,
                            "",
                            _("Missing sheet “%(s)s” (or “%(e)s”)."),
                            {"s": wanted[0], "e": wanted[1]},
                        )
                    ]
                )
            rows = [list(r) for r in workbook[name].iter_rows(values_only=True)]
            tables.append(_Table(name, rows, columns, required))
    finally:
        workbook.close()
    return build_specs(*tables, vocabulary=vocabulary)


def parse_csv(data: bytes, vocabulary: Vocabulary | None = None) -> list[DatasetSpec]:
    """The flat CSV form: one row per field, dataset columns repeated with a ``数据集.`` prefix."""
    import csv

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ResponsibilityListError(
            [
                ListError(
                    "",
                    None,
                    "",
                    _("The CSV file is not UTF-8 encoded (byte %(p)s); save it as “CSV UTF-8”."),
                    {"p": exc.start},
                )
            ]
        ) from exc
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0] if rows else []
    ds_idx = [i for i, h in enumerate(header) if h.startswith(CSV_DATASET_PREFIX)]
    fd_idx = [i for i, h in enumerate(header) if not h.startswith(CSV_DATASET_PREFIX)]
    ds_rows = [[header[i][len(CSV_DATASET_PREFIX) :] for i in ds_idx]]
    ds_numbers: list[int] = []
    seen: set[tuple] = set()
    for number, row in enumerate(rows[1:], start=2):
        values = tuple(row[i] if i < len(row) else "" for i in ds_idx)
        if values not in seen:  # dataset columns repeat on every field row
            seen.add(values)
            ds_rows.append(list(values))
            ds_numbers.append(number)
    fd_rows = [[row[i] if i < len(row) else "" for i in fd_idx] for row in rows]
    return build_specs(
        _Table(
            "csv",
            ds_rows,
            DATASET_COLUMNS,
            REQUIRED_DATASET_COLUMNS,
            ds_numbers,
            header_prefix=CSV_DATASET_PREFIX,
        ),
        _Table("csv", fd_rows, FIELD_COLUMNS, REQUIRED_FIELD_COLUMNS),
        vocabulary=vocabulary,
    )


def parse_yaml(data: bytes, vocabulary: Vocabulary | None = None) -> list[DatasetSpec]:
    import yaml

    try:
        document = yaml.safe_load(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ResponsibilityListError(
            [ListError("yaml", None, "", _("The YAML file cannot be read: %(e)s"), {"e": str(exc)})]
        ) from exc
    items = document.get("datasets") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ResponsibilityListError(
            [ListError("yaml", None, "datasets", _("Expected a top-level “datasets:” list."))]
        )
    ds_keys, fd_keys = list(DATASET_COLUMNS), list(FIELD_COLUMNS)
    ds_rows: list[list[Any]] = [ds_keys]
    fd_rows: list[list[Any]] = [fd_keys]
    for item in items:
        item = item if isinstance(item, dict) else {}
        ds_rows.append([item.get(k) for k in ds_keys])
        for f in item.get("fields") or []:
            f = dict(f) if isinstance(f, dict) else {}
            f["dataset_code"] = item.get("code")
            if isinstance(f.get("enum_values"), list):
                f["enum_values"] = ENUM_SEPARATOR.join(str(v) for v in f["enum_values"])
            if isinstance(f.get("required"), bool):
                f["required"] = "yes" if f["required"] else "no"
            fd_rows.append([f.get(k) for k in fd_keys])
    tables = (
        _Table("datasets", ds_rows, DATASET_COLUMNS, REQUIRED_DATASET_COLUMNS),
        _Table("fields", fd_rows, FIELD_COLUMNS, REQUIRED_FIELD_COLUMNS),
    )
    for table in tables:
        table.by_key = True
    return build_specs(*tables, vocabulary=vocabulary)


def parse_file(
    data: bytes, filename: str, vocabulary: Vocabulary | None = None
) -> list[DatasetSpec]:
    """`vocabulary`: the words accepted besides the codes in the coded columns (see
    Vocabulary; by default the Chinese sharing types)."""
    lowered = filename.lower()
    if lowered.endswith((".yaml", ".yml")):
        return parse_yaml(data, vocabulary)
    if lowered.endswith(".csv"):
        return parse_csv(data, vocabulary)
    return parse_xlsx(data, filename, vocabulary)
