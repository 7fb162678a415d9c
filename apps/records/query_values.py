"""Turning query-string values into typed Python values for one field's data type (400 if not),
and a `<field>__<lookup>` parameter into its SQL condition."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from psycopg2 import sql

from govdata.vocabulary import DataType

MAX_IN_VALUES = 1000


class QueryInvalid(Exception):
    """400: the query is malformed (unknown field, bad value, bad cursor)."""

    def __init__(self, message: str, field_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_name = field_name


def _bad(field_name: str, data_type: str) -> QueryInvalid:
    # The message names the field and the expected type, never echoes the value.
    return QueryInvalid(
        _("The value given for “%(field)s” is not a valid %(type)s.")
        % {"field": field_name, "type": data_type},
        field_name,
    )


def parse_value(raw: Any, data_type: str, field_name: str) -> Any:
    if raw is None:
        raise _bad(field_name, data_type)
    try:
        if data_type == DataType.INTEGER:
            if isinstance(raw, bool):
                raise ValueError
            return int(raw)
        if data_type == DataType.DECIMAL:
            return Decimal(str(raw))
        if data_type == DataType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            text = str(raw).lower()
            if text in {"true", "1", "t", "yes"}:
                return True
            if text in {"false", "0", "f", "no"}:
                return False
            raise ValueError
        if data_type == DataType.DATE:
            return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
        if data_type == DataType.DATETIME:
            value = raw if isinstance(raw, dt.datetime) else dt.datetime.fromisoformat(str(raw))
            if value.tzinfo is None:
                raise ValueError
            return value
    except (ValueError, TypeError, InvalidOperation) as exc:
        raise _bad(field_name, data_type) from exc
    if "\x00" in str(raw):  # PostgreSQL text cannot hold NUL (found by fuzzing)
        raise _bad(field_name, data_type)
    return str(raw)


def parse_values(raw: Any, data_type: str, field_name: str) -> list[Any]:
    items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
    if not items or len(items) > MAX_IN_VALUES:
        raise QueryInvalid(
            _("“%(field)s__in” takes 1 to %(max)d values.")
            % {"field": field_name, "max": MAX_IN_VALUES},
            field_name,
        )
    return [parse_value(item, data_type, field_name) for item in items]


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
    name: str, lookup: str, raw: Any, data_type: str, *, literal: bool = False
) -> tuple[sql.Composable, Any]:
    """The condition and its value, passed as a parameter (`%s`), or written in as a literal
    (for a condition inside the select list, whose parameters would come before the WHERE's)."""
    if lookup == "in":
        template, value = "{} = ANY({})", parse_values(raw, data_type, name)
    elif lookup == "contains":
        if data_type not in TEXT_TYPES:
            raise QueryInvalid(_("“%(field)s” is not text; use another lookup.") % {"field": name})
        template, value = "strpos({}, {}) > 0", str(raw)
    else:
        op = {"exact": "=", "gte": ">=", "lte": "<="}[lookup]
        template, value = "{} " + op + " {}", parse_value(raw, data_type, name)
    slot = sql.Literal(value) if literal else sql.SQL("%s")
    return sql.SQL(template).format(sql.Identifier(name), slot), value
