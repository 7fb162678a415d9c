"""The words for the responsibility list's codes and attributes: the labels its forms show
(the models' choices and verbose names), reused wherever a code would otherwise reach a person —
the list file (export and import: one vocabulary with the forms) and the published versions'
pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from apps.catalog.models import (
    Dataset,
    DataTypeChoices,
    Field,
    MaskingChoices,
    SensitivityChoices,
    SharingTypeChoices,
    UpdateFrequencyChoices,
)
from govdata.responsibility_list import ENUM_SEPARATOR, Vocabulary

# The language of the file's headers and sheet names (govdata.responsibility_list): its cells
# are written in it too, whatever the exporting officer's language.
FILE_LANGUAGE = "zh-hans"

# One entry per govdata.responsibility_list.CODED_COLUMNS (tests/catalog checks).
CODED_CHOICES: dict[str, type[models.TextChoices]] = {
    "update_frequency": UpdateFrequencyChoices,
    "sharing_type": SharingTypeChoices,
    "data_type": DataTypeChoices,
    "sensitivity": SensitivityChoices,
    "masking": MaskingChoices,
}

_TRAILING_NOTE = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")


def _short(label: str) -> str:
    """A label without its closing note: "Unconditional (无条件共享)" -> "Unconditional",
    "身份证号（保留前6位和后4位）" -> "身份证号", as an officer types them."""
    return _TRAILING_NOTE.sub("", label)


def file_vocabulary(language: str = FILE_LANGUAGE) -> Vocabulary:
    """Writes the labels in `language`; reads the labels of every language the platform
    speaks (with or without their closing note) and the codes. A word that would name two
    codes of one column is not accepted (the code is)."""
    with translation.override(language):
        labels = {
            column: {str(code): str(label) for code, label in choices.choices}
            for column, choices in CODED_CHOICES.items()
        }
    aliases: dict[str, dict[str, str]] = {}
    clashes: set[tuple[str, str]] = set()
    for language_code, _name in settings.LANGUAGES:
        with translation.override(language_code):
            for column, choices in CODED_CHOICES.items():
                words = aliases.setdefault(column, {})
                for code, label in choices.choices:
                    for word in {str(label), _short(str(label))}:
                        if words.setdefault(word, str(code)) != str(code):
                            clashes.add((column, word))
    for column, word in clashes:
        del aliases[column][word]
    return Vocabulary(labels=labels, aliases=aliases)


def code_label(attribute: str, code: Any) -> str:
    """A coded value's label in the active language; any other value as text."""
    choices = CODED_CHOICES.get(attribute)
    if choices is not None and code is not None:
        return str(dict(choices.choices).get(code, code))
    return "" if code is None else str(code)


def value_label(attribute: str, value: Any) -> str:
    """A snapshot's value as the forms show it; "" for no value."""
    if value is None or value == "" or value == []:
        return ""
    if attribute in CODED_CHOICES:
        return code_label(attribute, value)
    if attribute == "required" or isinstance(value, bool):
        return _("Yes") if value else _("No")
    if attribute == "enum_values" and isinstance(value, list):
        return ENUM_SEPARATOR.join(str(v) for v in value)
    return str(value)


def attribute_label(model: type[models.Model], attribute: str) -> str:
    try:
        return str(capfirst(model._meta.get_field(attribute).verbose_name))
    except FieldDoesNotExist:
        return attribute


@dataclass(frozen=True)
class ChangeRow:
    item: str  # "Dataset GA-RK-001", "Field note"
    what: str  # "Added", "Removed", or the attribute changed
    before: str
    after: str


def _item(target: str, name: str) -> str:
    model = Dataset if target == "dataset" else Field
    return f"{capfirst(model._meta.verbose_name)} {name}"


def version_change_rows(changes: list[dict[str, Any]]) -> list[ChangeRow]:
    """apps.catalog.versioning.snapshot_diff's entries, in words."""
    rows = []
    for change in changes:
        target, kind = change.get("target"), change.get("change")
        model = Dataset if target == "dataset" else Field
        if kind == "changed":
            attribute = change.get("attribute", "")
            what = attribute_label(model, attribute)
            before = value_label(attribute, change.get("from"))
            after = value_label(attribute, change.get("to"))
        elif kind == "added":
            what = _("First version") if target == "dataset" else _("Added")
            before = after = ""
        else:
            what, before, after = _("Removed"), "", ""
        rows.append(ChangeRow(_item(target, change.get("name", "")), what, before, after))
    return rows


# A snapshot's field table: the columns of the dataset page's field rows, in its words.
SNAPSHOT_FIELD_COLUMNS = ("name", "label", "data_type", "sensitivity", "sharing_type", "masking",
                          "required", "enum_values", "conditions", "legal_basis",
                          "description")  # fmt: skip
SNAPSHOT_DATASET_ROWS = ("code", "name", "provider", "summary", "category", "key_field",
                         "update_frequency", "sharing_type", "conditions",
                         "legal_basis")  # fmt: skip


def snapshot_table(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A published version's entry in words: the dataset's attributes as (label, value) pairs,
    the fields as a header and rows."""
    return {
        "dataset": [
            (attribute_label(Dataset, key), value_label(key, snapshot.get(key)))
            for key in SNAPSHOT_DATASET_ROWS
        ],
        "header": [attribute_label(Field, key) for key in SNAPSHOT_FIELD_COLUMNS],
        "fields": [
            [value_label(key, field.get(key)) for key in SNAPSHOT_FIELD_COLUMNS]
            for field in snapshot.get("fields", [])
        ],
    }


__all__ = [
    "CODED_CHOICES",
    "FILE_LANGUAGE",
    "ChangeRow",
    "attribute_label",
    "code_label",
    "file_vocabulary",
    "snapshot_table",
    "value_label",
    "version_change_rows",
]
