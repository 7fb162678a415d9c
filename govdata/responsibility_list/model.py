"""The template's columns and the structures a parsed list is made of."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from govdata.vocabulary import Sensitivity, SharingType, UpdateFrequency


def _(message: str) -> str:
    """Marks a message for translation (makemessages); the Django layer translates it."""
    return message


DATASET_SHEETS = ("数据集", "datasets")
FIELD_SHEETS = ("信息项", "fields")

# canonical key -> Chinese header. Order is the template's column order.
DATASET_COLUMNS: dict[str, str] = {
    "code": "资源代码",
    "name": "资源名称",
    "summary": "摘要",
    "category": "资源分类",
    "key_field": "关键字段",
    "update_frequency": "更新周期",
    "sharing_type": "共享类型",
    "conditions": "共享条件",
    "legal_basis": "依据",
}
FIELD_COLUMNS: dict[str, str] = {
    "dataset_code": "资源代码",
    "name": "信息项名称",
    "label": "信息项中文名",
    "data_type": "数据类型",
    "sensitivity": "敏感级别",
    "sharing_type": "共享类型",
    "conditions": "共享条件",
    "legal_basis": "依据",
    "masking": "脱敏规则",
    "required": "必填",
    "enum_values": "可选值",
    "description": "说明",
}
REQUIRED_DATASET_COLUMNS = ("code", "name", "key_field", "sharing_type")
REQUIRED_FIELD_COLUMNS = ("dataset_code", "name", "label", "data_type", "sharing_type")
CSV_DATASET_PREFIX = "数据集."

SHARING_TYPE_ALIASES = {
    "无条件共享": SharingType.UNCONDITIONAL,
    "有条件共享": SharingType.CONDITIONAL,
    "不予共享": SharingType.NONE,
}
TRUE_WORDS = {"true", "yes", "y", "1", "是", "必填"}
FALSE_WORDS = {"false", "no", "n", "0", "否", ""}
TRUE_CELL, FALSE_CELL = "是", "否"  # what an export writes: the headers' language
ENUM_SEPARATOR = "|"
# The columns holding one of a closed set of codes (govdata.vocabulary, govdata.masking).
CODED_COLUMNS = ("update_frequency", "sharing_type", "data_type", "sensitivity", "masking")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def word_key(word: str) -> str:
    """How a cell's word is compared: case, spaces and full- or half-width brackets aside
    ("不脱敏", "No masking", "no  MASKING" and "身份证号(保留前6位和后4位)" all find theirs)."""
    folded = word.casefold().replace("（", "(").replace("）", ")")
    return "".join(folded.split())


@dataclass(frozen=True)
class Vocabulary:
    """The words a file may use in the coded columns (CODED_COLUMNS), besides the codes.

    `labels` maps column -> code -> the word an export writes, in the file's language (the
    headers' language, Chinese); `aliases` maps column -> further accepted word -> code (the
    labels in the other languages, say). The Chinese sharing types (SHARING_TYPE_ALIASES) are
    always read; the Django layer passes the labels its forms show (apps.catalog.labels), so
    that a file and a form use the same words."""

    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    aliases: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # column -> compared word (word_key) -> code, built from the above.
    _lookup: dict[str, dict[str, str]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        pairs = [("sharing_type", word, code) for word, code in SHARING_TYPE_ALIASES.items()]
        pairs += [
            (column, word, code)
            for column, by_code in self.labels.items()
            for code, word in by_code.items()
        ]
        pairs += [
            (column, word, code)
            for column, by_word in self.aliases.items()
            for word, code in by_word.items()
        ]
        lookup: dict[str, dict[str, str]] = {}
        ambiguous: set[tuple[str, str]] = set()
        for column, word, code in pairs:
            key, words = word_key(str(word)), lookup.setdefault(column, {})
            if key and words.setdefault(key, str(code)) != str(code):
                ambiguous.add((column, key))
        for column, key in ambiguous:  # a word naming two codes names neither
            del lookup[column][key]
        object.__setattr__(self, "_lookup", lookup)

    def code(self, column: str, word: str, codes: Iterable[str]) -> str | None:
        """The code `word` stands for in `column`, or None."""
        key = word_key(word)
        by_key = {word_key(c): c for c in codes}
        if key in by_key:
            return by_key[key]
        found = self._lookup.get(column, {}).get(key)
        return found if found in by_key.values() else None

    def word(self, column: str, code: Any) -> str:
        """What an export writes for `code`: its label, or the code if it has none."""
        if code is None:
            return ""
        return self.labels.get(column, {}).get(str(code), str(code))

    def suggestions(self, column: str, codes: Iterable[str]) -> list[str]:
        """The words an error message offers: the labels, in the codes' order."""
        return [self.word(column, c) for c in codes]


DEFAULT_VOCABULARY = Vocabulary(
    labels={"sharing_type": {str(code): word for word, code in SHARING_TYPE_ALIASES.items()}}
)


@dataclass(frozen=True)
class ListError:
    sheet: str
    row: int | None
    column: str  # the column's letter in a spreadsheet, its key in YAML; "" for the whole row
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def message(self) -> str:
        return self.template % self.params if self.params else self.template

    def __str__(self) -> str:
        where = f"{self.sheet}!{self.column}{self.row or ''}"
        return f"{where}: {self.message}"


@dataclass
class FieldSpec:
    name: str
    label: str
    data_type: str
    sharing_type: str
    sensitivity: str = Sensitivity.INTERNAL.value
    conditions: str = ""
    legal_basis: str = ""
    masking: str = "none"
    required: bool = False
    enum_values: list[str] = field(default_factory=list)
    description: str = ""
    row: int | None = None


@dataclass
class DatasetSpec:
    code: str
    name: str
    key_field: str
    sharing_type: str
    summary: str = ""
    category: str = ""
    update_frequency: str = UpdateFrequency.DAILY.value
    conditions: str = ""
    legal_basis: str = ""
    fields: list[FieldSpec] = field(default_factory=list)
    row: int | None = None


class ResponsibilityListError(Exception):
    def __init__(self, errors: list[ListError]):
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = errors


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters
