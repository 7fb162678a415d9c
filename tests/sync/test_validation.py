"""Field validation: our fast check-digit loops agree with python-stdnum, dates in the formats
departments use, normalisation, and a clear reason for every rejection."""

from __future__ import annotations

import random

import pytest
from stdnum.cn import ric, uscc

from govdata.rows import RowValidator
from govdata.validation import (
    FieldError,
    FieldSpec,
    credit_code_error,
    field_validator,
    id_card_error,
)
from tests.sync.helpers import make_credit_code, make_id


def _v(data_type, **kw):
    return field_validator(FieldSpec("f", data_type, **kw))


def test_id_check_digit_agrees_with_stdnum_on_valid_and_corrupted_numbers():
    rng = random.Random(7)
    for _ in range(3000):
        number = make_id(rng)
        if rng.random() < 0.5:
            pos = rng.randrange(18)
            replacement = rng.choice("0123456789X" if pos == 17 else "0123456789")
            number = number[:pos] + replacement + number[pos + 1 :]
        assert (id_card_error(number) is None) == ric.is_valid(number), number


def test_credit_code_check_digit_agrees_with_stdnum():
    rng = random.Random(8)
    for _ in range(3000):
        code = make_credit_code(rng)
        if rng.random() < 0.5:
            pos = rng.randrange(8, 18)
            code = code[:pos] + rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") + code[pos + 1 :]
        assert (credit_code_error(code) is None) == uscc.is_valid(code), code


@pytest.mark.parametrize(
    "raw",
    ["2020-01-05", "2020/1/5", "2020年1月5日", "２０２０－０１－０５", " 2020.01.05 ", "20200105"],
)
def test_dates_in_department_formats_are_normalised(raw):
    assert _v("date")(raw) == "2020-01-05"


@pytest.mark.parametrize(
    "raw", ["2020-13-01", "2020-02-30", "1066-10-14", "9999-01-01", "yesterday"]
)
def test_bad_or_out_of_range_dates_are_rejected(raw):
    with pytest.raises(FieldError):
        _v("date")(raw)


def test_id_number_with_wrong_check_digit_is_rejected_with_reason():
    number = make_id(random.Random(1))
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    with pytest.raises(FieldError, match="check"):
        _v("id_card")(wrong)


def test_lowercase_x_and_full_width_id_numbers_are_accepted():
    rng = random.Random(3)
    number = next(n for n in (make_id(rng) for _ in range(500)) if n.endswith("X"))
    assert _v("id_card")(number[:17] + "x") == number
    assert _v("id_card")("".join(chr(ord(c) + 0xFEE0) for c in number)) == number


@pytest.mark.parametrize(
    ("data_type", "raw", "clean"),
    [
        ("integer", "１２３", "123"),
        ("integer", " 1,024 ", "1024"),
        ("decimal", "12.50", "12.50"),
        ("boolean", "是", "t"),
        ("boolean", "False", "f"),
        ("mobile", "+86 138-0013-8000", "13800138000"),
        ("string", "  张三\u3000", "张三"),
        ("string", "   ", None),
    ],
)
def test_values_are_trimmed_and_normalised(data_type, raw, clean):
    assert _v(data_type)(raw) == clean


def test_enum_rejects_values_outside_the_list_and_names_them():
    check = _v("enum", enum_values=("男", "女"))
    assert check("女") == "女"
    with pytest.raises(FieldError, match="男, 女"):
        check("未知")


def test_row_validator_reports_every_bad_field_of_a_row():
    specs = [
        FieldSpec("id_number", "id_card", True),
        FieldSpec("birth_date", "date"),
        FieldSpec("count", "integer"),
    ]
    validator = RowValidator(
        specs=specs, source_columns=["count", "id_number", "birth_date"], key_field="id_number"
    )
    number = make_id(random.Random(2))
    assert validator.row(["7", number, "2001/2/3"], 5) == f"5,{number},2001-02-03,7\n"
    values, errors = validator.validate(["x", "123", "2001-02-30"])
    assert values is None
    assert [e[0] for e in errors] == ["id_number", "birth_date", "count"]


def test_missing_key_column_is_an_error_naming_the_column():
    with pytest.raises(FieldError, match="id_number"):
        RowValidator(
            specs=[FieldSpec("id_number", "id_card")],
            source_columns=["name"],
            key_field="id_number",
        )


def test_extra_source_columns_are_ignored_and_listed():
    validator = RowValidator(
        specs=[FieldSpec("id_number", "id_card")],
        source_columns=["id_number", "notes"],
        key_field="id_number",
    )
    assert validator.extra_columns == ["notes"]


def test_copy_line_quotes_free_text_and_leaves_nulls_empty():
    specs = [FieldSpec("id_number", "id_card", True), FieldSpec("note", "string")]
    validator = RowValidator(
        specs=specs, source_columns=["id_number", "note"], key_field="id_number"
    )
    number = make_id(random.Random(4))
    assert validator.row([number, ' a "b", c\n'], 2) == f'2,{number},"a ""b"", c"\n'
    assert validator.row([number, "  "], 3) == f"3,{number},\n"
