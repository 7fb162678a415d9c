"""The list file's coded columns read the codes and the words of a Vocabulary, whatever their
case, spacing or bracket width; a word naming two codes names neither."""

from __future__ import annotations

import pytest

from govdata.responsibility_list import (
    DEFAULT_VOCABULARY,
    ResponsibilityListError,
    Vocabulary,
    parse_yaml,
)

MASKS = ("none", "id_card", "redact")
VOCABULARY = Vocabulary(
    labels={"masking": {"none": "不脱敏", "id_card": "身份证号（保留前6位和后4位）"}},
    aliases={"masking": {"No masking": "none", "ID card number": "id_card", "Hidden": "redact"}},
)


@pytest.mark.parametrize(
    ("word", "code"),
    [
        ("none", "none"),
        ("ID_CARD", "id_card"),
        ("不脱敏", "none"),
        (" 不脱敏 ", "none"),
        ("身份证号（保留前6位和后4位）", "id_card"),
        ("身份证号(保留前6位和后4位)", "id_card"),
        ("no masking", "none"),
        ("id card  number", "id_card"),
        ("hidden", "redact"),
    ],
)
def test_a_word_finds_its_code(word, code):
    assert VOCABULARY.code("masking", word, MASKS) == code


def test_an_unknown_word_or_another_columns_word_finds_nothing():
    assert VOCABULARY.code("masking", "scramble", MASKS) is None
    assert VOCABULARY.code("data_type", "不脱敏", ("string",)) is None


def test_a_word_naming_two_codes_is_not_accepted():
    vocabulary = Vocabulary(aliases={"masking": {"隐藏": "redact"}},
                            labels={"masking": {"none": "隐藏"}})  # fmt: skip
    assert vocabulary.code("masking", "隐藏", MASKS) is None
    assert vocabulary.code("masking", "redact", MASKS) == "redact"


def test_an_export_writes_the_label_or_the_code_when_there_is_none():
    assert VOCABULARY.word("masking", "none") == "不脱敏"
    assert VOCABULARY.word("masking", "redact") == "redact"
    assert VOCABULARY.word("masking", None) == ""


def test_the_default_vocabulary_knows_the_chinese_sharing_types():
    assert DEFAULT_VOCABULARY.code("sharing_type", "有条件共享", ("conditional",)) == "conditional"
    assert DEFAULT_VOCABULARY.word("sharing_type", "none") == "不予共享"


_YAML = """
datasets:
  - code: GA-1
    name: 户籍
    key_field: id_number
    sharing_type: 有条件共享
    legal_basis: 条例
    fields:
      - {name: id_number, label: 公民身份号码, data_type: id_card, sharing_type: conditional,
         legal_basis: 条例, masking: %s}
"""


def test_parsing_takes_the_vocabulary_given():
    [spec] = parse_yaml(
        (_YAML % "身份证号").encode(), Vocabulary(aliases={"masking": {"身份证号": "id_card"}})
    )
    assert spec.fields[0].masking == "id_card"


def test_an_unknown_word_is_reported_with_the_words_to_use():
    with pytest.raises(ResponsibilityListError) as exc:
        parse_yaml((_YAML % "打码").encode(), VOCABULARY)
    [error] = exc.value.errors
    assert error.column == "masking" and "打码" in error.message
    assert "不脱敏" in error.message and "身份证号（保留前6位和后4位）" in error.message
