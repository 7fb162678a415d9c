"""Field values as departments write them (more cases, cross-checked with python-stdnum, in
tests/sync/test_validation.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from govdata.validation import FieldError, FieldSpec, field_validator, id_card_error


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _v(data_type):
    return field_validator(FieldSpec("f", data_type))


def _with_check(body: str) -> str:
    check = (1 - 2 * int(body, 13)) % 11
    return body + ("X" if check == 10 else str(check))


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("2020/1/5 10:00:00", "2020-01-05T10:00:00+08:00"),  # Excel/WPS, Chinese locale
        ("2020-1-5 10:00:00", "2020-01-05T10:00:00+08:00"),
        ("2020年1月5日 10:00", "2020-01-05T10:00:00+08:00"),
        ("2020年1月5日 10时00分", "2020-01-05T10:00:00+08:00"),
        ("2020年1月5日10时05分30秒", "2020-01-05T10:05:30+08:00"),
        ("2020.1.5 9:30", "2020-01-05T09:30:00+08:00"),
        ("２０２０／１／５　１０：００", "2020-01-05T10:00:00+08:00"),
        ("2020-01-05T10:00:00+00:00", "2020-01-05T10:00:00+00:00"),
        ("2020/1/5", "2020-01-05T00:00:00+08:00"),
    ],
)
def test_datetimes_in_the_date_formats_followed_by_a_time_are_accepted(raw, clean):
    assert _v("datetime")(raw) == clean


@pytest.mark.parametrize("raw", ["1/5/2020 10:00", "yesterday noon", "2020-1-5 10"])
def test_a_value_that_is_no_datetime_is_rejected_naming_datetime_formats(raw):
    with pytest.raises(FieldError, match=r"not a date and time \(use 2020-01-05 10:00:00"):
        _v("datetime")(raw)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("2020-2-30 10:00", "not a valid calendar date"), ("2020/1/5 24:30", "not a valid time")],
)
def test_an_impossible_datetime_is_rejected_saying_what_is_impossible(raw, reason):
    with pytest.raises(FieldError, match=reason):
        _v("datetime")(raw)


@pytest.mark.parametrize(
    ("raw", "clean"), [(1.0, "1"), (-12.0, "-12"), (Decimal("40.00"), "40"), ("12.0", "12")]
)
def test_a_whole_number_written_as_a_decimal_is_an_integer(raw, clean):
    assert _v("integer")(raw) == clean


@pytest.mark.parametrize("raw", [1.5, Decimal("0.1"), "1.5", float("nan"), float("inf"), "1e3"])
def test_a_fraction_is_not_an_integer(raw):
    with pytest.raises(FieldError, match="not an integer"):
        _v("integer")(raw)


@pytest.mark.parametrize(
    "body",
    [
        "44010619500101001",  # 天河区 (1985-) for someone born in 1950
        "44010319500101001",
        "44011119600101001",
        "11011019900101001",  # 燕山区 (-1986): a number issued before it was merged
    ],
)
def test_a_region_code_is_valid_whenever_it_existed_whatever_the_birth_year(body):
    number = _with_check(body)
    assert id_card_error(number) is None
    assert _v("id_card")(number) == number


def test_a_region_code_that_never_existed_is_still_refused():
    assert id_card_error(_with_check("99999919900101001")) == "unknown region code"
