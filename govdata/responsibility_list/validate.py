"""Checking the rows of a list and turning them into specs, collecting every problem."""

from __future__ import annotations

from typing import Any

from govdata.masking import MASKING_RULES
from govdata.responsibility_list.model import (
    _CODE,
    _IDENTIFIER,
    DEFAULT_VOCABULARY,
    ENUM_SEPARATOR,
    FALSE_WORDS,
    TRUE_WORDS,
    DatasetSpec,
    FieldSpec,
    ListError,
    ResponsibilityListError,
    Vocabulary,
    _,
    column_letter,
)
from govdata.vocabulary import (
    SHARING_TYPES_NEEDING_LEGAL_BASIS,
    DataType,
    Sensitivity,
    SharingType,
    UpdateFrequency,
    dataset_type_admits_field_type,
)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class _Table:
    """One sheet's rows as dicts keyed by canonical column, remembering where each cell was."""

    def __init__(
        self,
        sheet: str,
        rows: list[list[Any]],
        columns: dict[str, str],
        required,
        numbers: list[int] | None = None,
        header_prefix: str = "",
    ):
        """`numbers[i]` is the file row of rows[i + 1] when rows were regrouped (CSV);
        `header_prefix` is what the file writes before each header (CSV's dataset columns)."""
        self.sheet = sheet
        self.errors: list[ListError] = []
        self.positions: dict[str, int] = {}
        self.by_key = False  # YAML has no column letters: name the key instead
        self.records: list[tuple[int, dict[str, str]]] = []
        if not rows:
            self.errors.append(ListError(sheet, 1, "", _("The sheet is empty.")))
            return
        lookup = {key.lower(): key for key in columns} | {zh: key for key, zh in columns.items()}
        for index, header in enumerate(rows[0]):
            title = _text(header)
            if not title:
                continue
            key = lookup.get(title.lower()) or lookup.get(title)
            if key is None or key in self.positions:
                self.errors.append(
                    ListError(
                        sheet,
                        1,
                        column_letter(index),
                        _("Unknown or repeated column “%(h)s”."),
                        {"h": title},
                    )
                )
                continue
            self.positions[key] = index
        for key in required:
            if key not in self.positions:
                self.errors.append(
                    ListError(
                        sheet,
                        1,
                        "",
                        _("Missing column “%(h)s” (%(k)s)."),
                        {"h": header_prefix + columns[key], "k": key},
                    )
                )
        numbers = numbers or list(range(2, len(rows) + 1))
        for number, row in zip(numbers, rows[1:], strict=True):
            if not any(_text(v) for v in row):
                continue
            values = {
                key: _text(row[i]) if i < len(row) else "" for key, i in self.positions.items()
            }
            self.records.append((number, values))

    def where(self, key: str) -> str:
        index = self.positions.get(key)
        return column_letter(index) if index is not None and not self.by_key else key


# In the enumerations' order, which is the order an error message offers them in.
_SHARING = tuple(t.value for t in SharingType)
_DATA_TYPES = tuple(t.value for t in DataType)
_SENSITIVITY = tuple(t.value for t in Sensitivity)
_FREQUENCY = tuple(t.value for t in UpdateFrequency)
_MASKING = tuple(MASKING_RULES)


def build_specs(
    datasets: _Table, fields: _Table, vocabulary: Vocabulary | None = None
) -> list[DatasetSpec]:
    """Turns two tables into specs, or raises ResponsibilityListError with every problem.
    A coded column takes its codes or the words of `vocabulary` (DEFAULT_VOCABULARY: the
    Chinese sharing types)."""
    vocabulary = vocabulary or DEFAULT_VOCABULARY
    errors = [*datasets.errors, *fields.errors]
    if errors:
        raise ResponsibilityListError(errors)

    def err(table: _Table, row: int, key: str, template: str, **params: Any) -> None:
        errors.append(ListError(table.sheet, row, table.where(key), template, params))

    def pick(table, row, values, key, codes, default=None, template=None):
        raw = values.get(key, "")
        if not raw and default is not None:
            return default
        chosen = vocabulary.code(key, raw, codes)
        if chosen is None:
            err(
                table,
                row,
                key,
                template or _("Unknown value “%(v)s” for %(k)s; use one of: %(allowed)s."),
                v=raw,
                k=key,
                allowed=", ".join(vocabulary.suggestions(key, codes)),
            )
        return chosen or raw

    specs: dict[str, DatasetSpec] = {}
    for row, values in datasets.records:
        code = values["code"]
        if not _CODE.match(code):
            err(datasets, row, "code", _("“%(v)s” is not a valid catalogue code."), v=code)
        elif code in specs:
            err(
                datasets,
                row,
                "code",
                _("Duplicate catalogue code “%(v)s” (first in row %(r)s)."),
                v=code,
                r=specs[code].row,
            )
            continue
        spec = DatasetSpec(
            code=code,
            name=values["name"],
            key_field=values["key_field"],
            sharing_type=pick(datasets, row, values, "sharing_type", _SHARING),
            summary=values.get("summary", ""),
            category=values.get("category", ""),
            update_frequency=pick(
                datasets,
                row,
                values,
                "update_frequency",
                _FREQUENCY,
                default=UpdateFrequency.DAILY.value,
            ),
            conditions=values.get("conditions", ""),
            legal_basis=values.get("legal_basis", ""),
            row=row,
        )
        if not spec.name:
            err(datasets, row, "name", _("The name is required."))
        if spec.sharing_type in SHARING_TYPES_NEEDING_LEGAL_BASIS and not spec.legal_basis:
            err(
                datasets,
                row,
                "legal_basis",
                _("A legal basis is required for conditional and not-shared data."),
            )
        specs[code] = spec

    for row, values in fields.records:
        spec = specs.get(values["dataset_code"])
        if spec is None:
            err(
                fields,
                row,
                "dataset_code",
                _("No dataset “%(v)s” in the datasets sheet."),
                v=values["dataset_code"],
            )
            continue
        name = values["name"]
        if not _IDENTIFIER.match(name):
            err(
                fields,
                row,
                "name",
                _("“%(v)s” is not a valid field name (lower-case letters, digits, _)."),
                v=name,
            )
        if any(f.name == name for f in spec.fields):
            err(
                fields,
                row,
                "name",
                _("Duplicate field “%(v)s” in dataset %(d)s."),
                v=name,
                d=spec.code,
            )
            continue
        item = FieldSpec(
            name=name,
            label=values["label"],
            data_type=pick(fields, row, values, "data_type", _DATA_TYPES),
            sharing_type=pick(fields, row, values, "sharing_type", _SHARING),
            sensitivity=pick(
                fields, row, values, "sensitivity", _SENSITIVITY, default=Sensitivity.INTERNAL.value
            ),
            conditions=values.get("conditions", ""),
            legal_basis=values.get("legal_basis", ""),
            masking=pick(
                fields,
                row,
                values,
                "masking",
                _MASKING,
                default="none",
                template=_("Unknown masking rule “%(v)s”; use one of: %(allowed)s."),
            ),
            description=values.get("description", ""),
            enum_values=[
                v.strip() for v in values.get("enum_values", "").split(ENUM_SEPARATOR) if v.strip()
            ],
            row=row,
        )
        required = values.get("required", "").lower()
        if required not in TRUE_WORDS | FALSE_WORDS:
            err(fields, row, "required", _("“%(v)s” is not yes or no."), v=required)
        item.required = required in TRUE_WORDS
        if not item.label:
            err(fields, row, "label", _("The label is required."))
        if item.sharing_type in SHARING_TYPES_NEEDING_LEGAL_BASIS and not item.legal_basis:
            err(
                fields,
                row,
                "legal_basis",
                _("A legal basis is required for conditional and not-shared data."),
            )
        if (
            item.sharing_type in _SHARING
            and spec.sharing_type in _SHARING
            and not dataset_type_admits_field_type(spec.sharing_type, item.sharing_type)
        ):
            err(
                fields,
                row,
                "sharing_type",
                _("A %(d)s dataset cannot have a %(f)s field."),
                d=vocabulary.word("sharing_type", spec.sharing_type),
                f=vocabulary.word("sharing_type", item.sharing_type),
            )
        if item.data_type == DataType.ENUM and not item.enum_values:
            err(fields, row, "enum_values", _("An enumeration needs its allowed values."))
        spec.fields.append(item)

    for spec in specs.values():
        if not spec.fields:
            err(datasets, spec.row, "code", _("Dataset %(d)s has no fields."), d=spec.code)
        elif spec.key_field not in {f.name for f in spec.fields}:
            err(
                datasets,
                spec.row,
                "key_field",
                _("The key field “%(v)s” is not among the dataset's fields."),
                v=spec.key_field,
            )
    if not specs and not errors:
        errors.append(ListError(datasets.sheet, None, "", _("The list holds no dataset.")))
    if errors:
        raise ResponsibilityListError(errors)
    return list(specs.values())
