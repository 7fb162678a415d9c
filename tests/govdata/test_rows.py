"""How the row validator maps a source's columns to the dataset's fields, and which rows it
refuses for their shape."""

from __future__ import annotations

import pytest
from django.utils import translation

from govdata.connectors.base import Columns
from govdata.rows import RowValidator
from govdata.validation import FieldError, FieldSpec

ID = "110101199003077811"
SPECS = [
    FieldSpec("id_number", "id_card", True, label="公民身份号码"),
    FieldSpec("name", "string", label="姓名"),
    FieldSpec("mobile", "mobile", label="手机"),
    FieldSpec("birth_date", "date", label="出生日期"),
    FieldSpec("note", "string", label="备注"),
]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _validator(columns, specs=SPECS):
    return RowValidator(specs=specs, source_columns=columns, key_field="id_number")


def test_columns_headed_with_the_fields_labels_are_read_as_those_fields():
    validator = _validator(["公民身份号码", "姓名", "手机", "出生日期", "备注"])
    line = validator.row([ID, "张三", "13800138000", "1990/3/7", "已核"], 2)
    assert line == f'2,{ID},"张三",13800138000,1990-03-07,"已核"\n'


def test_labels_are_matched_as_headers_are_normalised():
    validator = _validator(["ｉｄ＿ｎｕｍｂｅｒ", " 姓名\u3000", "手机", "出生日期", "备注"])
    assert validator.positions == [0, 1, 2, 3, 4]


def test_a_misspelt_header_fails_listing_the_fields_without_column_and_the_stray_columns():
    with pytest.raises(FieldError) as caught:
        _validator(["id_number", "name", "Mobile", "Birth_Date", "notes"])
    assert str(caught.value) == (
        "no column for the fields mobile (手机), birth_date (出生日期), note (备注); columns not "
        "in the dataset: Mobile, Birth_Date, notes. Head each column with its field's name or "
        "label."
    )
    assert caught.value.params["cols"] == "Mobile, Birth_Date, notes"  # the source's own text


def test_a_field_the_source_does_not_have_is_empty_when_no_column_is_left_over():
    validator = _validator(["id_number", "name"])
    assert validator.row([ID, "张三"], 2) == f'2,{ID},"张三",,,\n'


@pytest.mark.parametrize(
    ("columns", "positions"),
    [
        (["id_number", "name", "mobile", "note", "mobile"], "3 (mobile), 5 (mobile)"),
        (["id_number", "mobile", "name", "手机"], "2 (mobile), 4 (手机)"),
    ],
)
def test_two_columns_for_one_field_fail_naming_both_positions(columns, positions):
    with pytest.raises(FieldError, match="more than one column") as caught:
        _validator(columns)
    assert caught.value.params == {"field": "mobile (手机)", "positions": positions}


def test_a_header_that_is_both_a_name_and_another_fields_label_is_the_name():
    specs = [FieldSpec("id_number", "id_card", True), FieldSpec("code", "string", label="name")]
    specs.append(FieldSpec("name", "string"))
    validator = _validator(["id_number", "name"], specs)
    assert validator.positions == [0, None, 1]


def test_a_row_longer_than_the_header_is_refused_naming_the_extra_values():
    validator = _validator(["id_number", "name", "note"])
    assert validator.row([ID, "张三", "已迁出", "迁往广州市越秀区"], 5) is None
    assert validator.errors([ID, "张三", "已迁出", "迁往广州市越秀区"]) == [
        ("", "the row has more columns than the header", "迁往广州市越秀区")
    ]


def test_empty_values_after_the_last_column_are_no_extra_data():
    validator = _validator(["id_number", "name", "note"])
    assert validator.row([ID, "张三", "x", "", " "], 5) == f'5,{ID},"张三",,,"x"\n'


def test_a_short_row_is_still_refused_as_such():
    validator = _validator(["id_number", "name", "note"])
    assert validator.row([ID, "张三"], 7) is None
    assert validator.errors([ID, "张三"]) == [("", "the row has fewer columns than the header", "")]


def test_a_title_row_above_the_header_is_named_in_the_error():
    columns = Columns(
        ["广东省公安厅人口基本信息（2026年1月）", "", ""],
        following=[(2, ["公民身份号码", "姓名", "备注"]), (3, [ID, "张三", ""])],
    )
    with pytest.raises(FieldError, match='row 2 has it.*"header_row": 2'):
        _validator(columns)


@pytest.mark.parametrize("header", ["id_number;name;note", "id_number\tname\tnote"])
def test_a_header_read_as_one_column_hints_at_the_delimiter(header):
    with pytest.raises(FieldError, match='not separated by “,”. Set "delimiter"'):
        _validator(Columns([header], delimiter=","))


def test_a_missing_key_column_without_a_hint_lists_the_columns():
    with pytest.raises(
        FieldError, match=r"“id_number” is missing from the source \(columns: a, b\)"
    ):
        _validator(["a", "b"])


def test_a_keyed_source_gets_the_fields_its_first_records_left_out():
    columns = Columns(["id_number", "name", "extra"], keyed=True)
    validator = _validator(columns)
    assert columns == ["id_number", "name", "extra", "mobile", "birth_date", "note"]
    assert validator.positions == [0, 1, 3, 4, 5]
    assert validator.extra_columns == ["extra"]
