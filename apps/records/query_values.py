"""Turning query-string values into typed Python values for one field's data type (400 if not),
and a `<field>__<lookup>` parameter into its SQL condition.

Values are parsed strictly: exactly the documented forms, in ASCII, with nothing around them.
Python's own parsers are lenient in ways a caller cannot see (int() takes full-width digits,
spaces and `1_000`; Decimal() takes NaN and Infinity; date.fromisoformat() takes 20250113 and
2025-W03-1), and a value PostgreSQL cannot hold (1e999999999, 2**63) would fail inside the
statement: a 500 on a page, a cut-off 200 on an export whose SQL runs inside the stream. So
every value is checked here, before any statement is built. Resident ID numbers and credit
codes are normalised as sync stores them (normalise_code), so that a filter finds what a key
lookup finds."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from psycopg2 import sql

from govdata.validation import halfwidth
from govdata.vocabulary import DataType

MAX_IN_VALUES = 1000
# A bigint column's range (apps.records.store.SQL_TYPES: integers are bigint).
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
# What a PostgreSQL numeric can hold: up to 131072 digits before the decimal point and 16383
# after. A stored value is always within, so a cursor holding one always parses again.
DECIMAL_MAX_DIGITS_BEFORE_POINT = 131072
DECIMAL_MAX_PLACES = 16383
# What sync trims off a value before storing it (govdata.validation).
TRIM = " \t\r\n\u3000\ufeff\xa0"

# [0-9], not \d: \d also matches full-width and other Unicode digits.
_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_DECIMAL = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
# ISO 8601 extended: what the JSON of a record writes (2024-01-02T03:04:05.000600+00:00) and
# what sync stores from an ISO source value; minutes, seconds and fraction as in ISO 8601.
_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?:Z|[+-][0-9]{2}:[0-9]{2})?\Z"
)
_TRUE = frozenset({"true", "1", "t", "yes"})
_FALSE = frozenset({"false", "0", "f", "no"})
CODE_TYPES = frozenset({DataType.ID_CARD, DataType.CREDIT_CODE})


class QueryInvalid(Exception):
    """400: the query is malformed (unknown field, bad value, bad cursor)."""

    def __init__(self, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_name = field_name


def _expected(data_type: str) -> str:
    """The forms a value of `data_type` may take, as the 400 tells them."""
    if data_type == DataType.INTEGER:
        return _("a whole number (ASCII digits, optional sign) from %(min)d to %(max)d") % {
            "min": BIGINT_MIN,
            "max": BIGINT_MAX,
        }
    if data_type == DataType.DECIMAL:
        return _(
            "a number such as 12, -0.5 or 1.5e3 (ASCII digits, optional sign, fraction and "
            "exponent) below 1e131072 in absolute value, with at most 16383 decimal places"
        )
    if data_type == DataType.BOOLEAN:
        return _("true or false")
    if data_type == DataType.DATE:
        return _("a date as YYYY-MM-DD")
    if data_type == DataType.DATETIME:
        return _(
            "a date and time as YYYY-MM-DDTHH:MM:SS (the seconds, and a fraction of up to six "
            "digits, optional) with Z or an offset such as +08:00 (without one: %(zone)s time)"
        ) % {"zone": settings.TIME_ZONE}
    return _("text without NUL characters")


def _bad(param: str, field_name: str, data_type: str) -> QueryInvalid:
    # Names the parameter, the field and the expected form; never echoes the value.
    if param == field_name:
        message = _("The value given for “%(field)s” is not valid: give %(expected)s.")
    else:
        message = _(
            "The value given for “%(param)s” is not valid for the field “%(field)s”: give "
            "%(expected)s."
        )
    expected = _expected(data_type)
    return QueryInvalid(
        message % {"param": param, "field": field_name, "expected": expected}, field_name
    )


def normalise_code(text: str) -> str:
    """A resident ID number or credit code as sync stores it (govdata.validation): trimmed,
    half-width, upper-case (a check character `x` is stored `X`). Shared by key lookups and
    filters, so that both find the same records; nothing is validated. The steps are those of
    govdata.validation._text, then its upper-casing."""
    text = text.strip(TRIM)
    if not text.isascii():
        text = halfwidth(text).strip()
    return text.upper()


def _integer(raw: Any) -> int:
    if isinstance(raw, float) and raw.is_integer():  # a grant's row filter, from JSON
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, str) and _INTEGER.match(raw):
        value = int(raw)  # ValueError past Python's 4300 digits: out of range anyway
    else:
        raise ValueError
    if not BIGINT_MIN <= value <= BIGINT_MAX:
        raise ValueError
    return value


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):  # a grant's row filter, from JSON
        raw = str(raw)
    elif isinstance(raw, float):
        raw = repr(raw)  # nan and inf do not match below
    if not isinstance(raw, str) or not _DECIMAL.match(raw):
        raise ValueError
    value = Decimal(raw)
    # adjusted(): the exponent of the first digit, so a value below 10**n has adjusted() < n.
    if value.adjusted() >= DECIMAL_MAX_DIGITS_BEFORE_POINT:
        raise ValueError
    if -value.as_tuple().exponent > DECIMAL_MAX_PLACES:
        raise ValueError
    return value


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).lower() if isinstance(raw, str) else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
        return raw
    if not isinstance(raw, str) or not _DATE.match(raw):
        raise ValueError
    return dt.date.fromisoformat(raw)  # ValueError for a day not in the calendar


def _datetime(raw: Any) -> dt.datetime:
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, str) and _DATETIME.match(raw):
        value = dt.datetime.fromisoformat(raw)  # ValueError for 25:00, 02-30 and the like
    else:
        raise ValueError
    if value.tzinfo is None:  # as sync stores a time without an offset
        value = timezone.make_aware(value, timezone.get_default_timezone())
    return value


def _text(raw: Any, data_type: str) -> str:
    text = str(raw)
    if "\x00" in text:  # PostgreSQL text cannot hold NUL (found by fuzzing)
        raise ValueError
    return normalise_code(text) if data_type in CODE_TYPES else text


_PARSERS = {
    DataType.INTEGER: _integer,
    DataType.DECIMAL: _decimal,
    DataType.BOOLEAN: _boolean,
    DataType.DATE: _date,
    DataType.DATETIME: _datetime,
}


def parse_value(raw: Any, data_type: str, field_name: str, param: str | None = None) -> Any:
    """`raw` (query-string text, a value of a cursor or of a grant's row filter) as a value of
    the field's type, or QueryInvalid naming `param` (default: the field) and the field."""
    if raw is None:
        raise _bad(param or field_name, field_name, data_type)
    parser = _PARSERS.get(data_type)
    try:
        return parser(raw) if parser is not None else _text(raw, data_type)
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise _bad(param or field_name, field_name, data_type) from exc


def parse_values(raw: Any, data_type: str, field_name: str, param: str | None = None) -> list[Any]:
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    if not items or len(items) > MAX_IN_VALUES:
        raise QueryInvalid(
            _("“%(field)s__in” takes 1 to %(max)d values.")
            % {"field": field_name, "max": MAX_IN_VALUES},
            field_name,
        )
    return [parse_value(item, data_type, field_name, param) for item in items]


LOOKUPS = frozenset({"exact", "in", "gte", "lte", "contains"})
TEXT_TYPES = frozenset(
    {DataType.STRING, DataType.ID_CARD, DataType.CREDIT_CODE, DataType.MOBILE, DataType.ENUM}
)


def split_lookup(param: str) -> tuple[str, str]:
    name, sep, lookup = param.rpartition("__")
    if sep and lookup in LOOKUPS:
        return name, lookup
    return param, "exact"


def lookup_condition(
    name: str,
    lookup: str,
    raw: Any,
    data_type: str,
    *,
    literal: bool = False,
    param: str | None = None,
) -> tuple[sql.Composable, Any]:
    """The condition and its value, passed as a parameter (`%s`), or written in as a literal
    (for a condition inside the select list, whose parameters would come before the WHERE's).
    `param` is the query parameter the value came from, named by a 400."""
    if lookup == "in":
        template, value = "{} = ANY({})", parse_values(raw, data_type, name, param)
    elif lookup == "contains":
        if data_type not in TEXT_TYPES:
            raise QueryInvalid(_("“%(field)s” is not text; use another lookup.") % {"field": name})
        # A part of an ID number or credit code is normalised like a whole one.
        template, value = "strpos({}, {}) > 0", parse_value(raw, data_type, name, param)
    else:
        op = {"exact": "=", "gte": ">=", "lte": "<="}[lookup]
        template, value = "{} " + op + " {}", parse_value(raw, data_type, name, param)
    slot = sql.Literal(value) if literal else sql.SQL("%s")
    return sql.SQL(template).format(sql.Identifier(name), slot), value
