"""Filter and cursor values are parsed strictly: exactly the documented form of each data type,
within what its column holds, else a 400 naming the parameter and the field (never the value).
Resident ID numbers and credit codes are normalised in filters as sync stores them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from apps.records.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, page_size_parse
from apps.records.query_values import QueryInvalid, lookup_condition, parse_value

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def _invalid(raw, data_type: str) -> None:
    with pytest.raises(QueryInvalid):
        parse_value(raw, data_type, "f")


@pytest.mark.parametrize(
    "raw",
    [
        "1e999999999",  # overflows numeric: was a 500 on pages, a cut-off export
        "-1e131072",
        "1e-16384",
        "0.5e-16383",
        "NaN",
        "nan",
        "sNaN",
        "-sNaN",
        "Infinity",
        "-Infinity",
        "inf",
        "１００００",  # full-width digits
        "٣",  # Arabic-Indic digit
        "1_000",
        "1,000",
        " 5",
        "5 ",
        "5\n",
        "+-5",
        ".5",
        "5.",
        "1e",
        "0x10",
        "",
        float("nan"),
        float("inf"),
        True,
    ],
)
def test_a_decimal_outside_the_documented_forms_is_invalid(raw):
    _invalid(raw, "decimal")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", Decimal(12)),
        ("-0.50", Decimal("-0.50")),
        ("+1.5e3", Decimal(1500)),
        ("1E-7", Decimal("0.0000001")),  # how str() writes a small stored numeric
        ("9e131071", Decimal("9e131071")),  # the largest magnitudes numeric holds
        ("1e-16383", Decimal("1e-16383")),
        (7, Decimal(7)),  # from a grant's row filter (JSON)
        (1.25, Decimal("1.25")),
    ],
)
def test_a_decimal_in_a_documented_form_parses_exactly(raw, expected):
    assert parse_value(raw, "decimal", "f") == expected


def test_the_decimal_bounds_are_what_postgresql_numeric_holds(db):
    from django.db import DataError, connection, transaction

    with connection.cursor() as cur:
        for text in ["9e131071", "-9e131071", "1e-16383"]:
            cur.execute("SELECT %s::numeric = %s", [text, parse_value(text, "decimal", "f")])
            assert cur.fetchone()[0] is True
        for text in ["1e131072", "1e-16384"]:
            with pytest.raises(DataError), transaction.atomic():
                cur.execute("SELECT %s::numeric", [text])
            _invalid(text, "decimal")


@pytest.mark.parametrize(
    "raw",
    [
        "１００００",
        "٣",
        "1_000",
        "1,000",
        " 5",
        "5 ",
        "5.0",
        "1e3",
        "+",
        "",
        "9223372036854775808",
        "-9223372036854775809",
        "9" * 5000,
        2**63,
        True,
        1.5,
    ],
)
def test_an_integer_outside_the_documented_forms_or_bigint_is_invalid(raw):
    _invalid(raw, "integer")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0", 0),
        ("+42", 42),
        ("-7", -7),
        ("007", 7),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        (5, 5),
        (5.0, 5),  # a grant's row filter, from JSON
    ],
)
def test_an_integer_in_a_documented_form_parses(raw, expected):
    assert parse_value(raw, "integer", "f") == expected


@pytest.mark.parametrize(
    "raw",
    [
        "20250113",
        "2025-W03-1",
        "2025-013",
        "2025-1-13",
        " 2025-01-13",
        "2025-01-13 ",
        "２０２５-01-13",
        "2025-02-30",
        "2025-01-13T00:00",
        "2025/01/13",
    ],
)
def test_a_date_other_than_yyyy_mm_dd_is_invalid(raw):
    _invalid(raw, "date")


def test_a_date_parses_from_yyyy_mm_dd():
    assert parse_value("2024-02-29", "date", "f") == dt.date(2024, 2, 29)


@pytest.mark.parametrize(
    "raw",
    [
        "2025-01-13 10:00:00+08:00",
        "20250113T100000+0800",
        "2025-01-13T10:00:00+0800",
        "2025-01-13T10:00:00+08",
        "2025-01-13",
        "2025-01-13T10",
        "2025-01-13T10:00:00.1234567+00:00",
        "2025-01-13T25:00:00Z",
        "2025-02-30T10:00:00Z",
        " 2025-01-13T10:00:00Z",
        "2025-W03-1T10:00Z",
        "２０２５-01-13T10:00:00Z",
    ],
)
def test_a_datetime_other_than_iso_8601_extended_is_invalid(raw):
    _invalid(raw, "datetime")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-01-13T10:00:00+08:00", dt.datetime(2025, 1, 13, 10, tzinfo=SHANGHAI)),
        ("2025-01-13T02:00:00Z", dt.datetime(2025, 1, 13, 10, tzinfo=SHANGHAI)),
        ("2025-01-13T02:00+00:00", dt.datetime(2025, 1, 13, 10, tzinfo=SHANGHAI)),
        # What the JSON of a record writes, microseconds included.
        ("2024-01-02T03:04:05.000600+00:00", dt.datetime(2024, 1, 2, 3, 4, 5, 600, dt.UTC)),
        # Without an offset: the platform's time zone, as sync stores such a value.
        ("2025-01-13T10:00:00", dt.datetime(2025, 1, 13, 10, tzinfo=SHANGHAI)),
    ],
)
def test_a_datetime_in_iso_8601_extended_parses_with_its_offset(raw, expected):
    value = parse_value(raw, "datetime", "f")
    assert value == expected and value.tzinfo is not None


@pytest.mark.parametrize("raw", ["true", "True", "1", "t", "yes"])
def test_boolean_true_forms(raw):
    assert parse_value(raw, "boolean", "f") is True


@pytest.mark.parametrize("raw", [" true", "ｔｒｕｅ", "2", "", "y"])
def test_other_boolean_forms_are_invalid(raw):
    _invalid(raw, "boolean")


def test_the_400_names_the_parameter_and_the_field_and_the_bound_never_the_value():
    with pytest.raises(QueryInvalid) as exc:
        lookup_condition("fine_amount", "gte", "1e999999999", "decimal", param="fine_amount__gte")
    message = exc.value.message
    assert "“fine_amount__gte”" in message and "“fine_amount”" in message
    assert "1e131072" in message and "999999999" not in message
    assert exc.value.field_name == "fine_amount"


def test_an_in_item_names_the_in_parameter():
    with pytest.raises(QueryInvalid) as exc:
        lookup_condition("count", "in", "1,NaN", "integer", param="count__in")
    assert "“count__in”" in exc.value.message and "NaN" not in exc.value.message


def test_an_exact_filter_names_its_field_once():
    with pytest.raises(QueryInvalid) as exc:
        lookup_condition("day", "exact", "20250113", "date", param="day")
    assert exc.value.message.count("“day”") == 1 and "YYYY-MM-DD" in exc.value.message


@pytest.mark.parametrize("data_type", ["string", "id_card", "enum"])
def test_text_with_nul_is_invalid_in_every_lookup(data_type):
    for lookup in ["exact", "in", "gte", "contains"]:
        with pytest.raises(QueryInvalid):
            lookup_condition("f", lookup, "a\x00b", data_type)


STORED_ID = "44010019400101139X"


@pytest.mark.parametrize(
    ("lookup", "raw", "expected"),
    [
        ("exact", "44010019400101139x", STORED_ID),
        ("exact", " ４４０１００１９４００１０１１３９ｘ\u3000", STORED_ID),
        ("exact", "\ufeff44010019400101139X", STORED_ID),
        ("gte", "44010019400101139x", STORED_ID),
        ("lte", "４４０１００１９４００１０１１３９Ｘ", STORED_ID),
        (
            "in",
            "44010019400101139x, ４４０１０６１９９００１０１０００１",
            [STORED_ID, "440106199001010001"],
        ),
        ("contains", "139x", "139X"),
        ("contains", "１３９ｘ", "139X"),
    ],
)
def test_id_number_filters_are_normalised_as_sync_stores_them(lookup, raw, expected):
    assert lookup_condition("id_number", lookup, raw, "id_card")[1] == expected


def test_credit_code_filters_are_normalised_as_sync_stores_them():
    asked = "９１１１００００６０００３７３４１ｌ "
    assert lookup_condition("uscc", "exact", asked, "credit_code")[1] == "91110000600037341L"
    assert lookup_condition("uscc", "contains", "41l", "credit_code")[1] == "41L"


def test_other_text_filters_are_compared_as_given():
    assert lookup_condition("name", "exact", " 张三x ", "string")[1] == " 张三x "
    assert lookup_condition("mobile", "contains", "１３８", "mobile")[1] == "１３８"


@pytest.mark.parametrize("raw", [" 5", "5 ", "１０", "1_0", "+5", "0", "1001", "", "5.0", "٣"])
def test_page_size_takes_ascii_digits_from_1_to_the_maximum_only(raw):
    with pytest.raises(QueryInvalid) as exc:
        page_size_parse(raw)
    assert "“page_size”" in exc.value.message


def test_page_size_defaults_and_parses():
    assert page_size_parse(None) == DEFAULT_PAGE_SIZE
    assert page_size_parse("1") == 1 and page_size_parse(str(MAX_PAGE_SIZE)) == MAX_PAGE_SIZE
