"""Masking rules as SQL expressions, so that a masked value never leaves the database in clear.

Each expression must return exactly what govdata.masking returns for the same value (tests in
tests/records/test_query.py and tests/records/test_sql_masking.py compare both). `hash` needs
the per-consumer key and HMAC; it is applied in Python on the way out (see
apps.records.query.RecordQuery.python_maskers).
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from psycopg2 import sql

from govdata.masking import ADDRESS_CITY_HEAD, ADDRESS_DISTRICT_HEAD
from govdata.vocabulary import DataType

# Rules done in Python after the fetch (the raw value is read, hashed, and never returned).
PYTHON_RULES = frozenset({"hash"})

_DATE_TYPES = frozenset({DataType.DATE, DataType.DATETIME})


def _keep(col: sql.Composable, head: int, tail: int) -> sql.Composed:
    text = sql.SQL("({}::text)").format(col)
    return sql.SQL(
        "CASE WHEN {t} IS NULL THEN NULL "
        "WHEN length({t}) <= {n} THEN repeat('*', length({t})) "
        "ELSE left({t}, {h}) || repeat('*', length({t}) - {n}) || right({t}, {tl}) END"
    ).format(
        t=text,
        n=sql.Literal(head + tail),
        h=sql.Literal(head),
        tl=sql.Literal(tail),
    )


def _name(col: sql.Composable) -> sql.Composed:
    text = sql.SQL("({}::text)").format(col)
    # A one-character name is all first character: it is hidden whole, as in govdata.masking.
    return sql.SQL(
        "CASE WHEN {t} IS NULL OR {t} = '' THEN {t} WHEN length({t}) = 1 THEN '*' "
        "ELSE left({t}, 1) || repeat('*', length({t}) - 1) END"
    ).format(t=text)


# The head govdata.masking.mask_address keeps, as one regex of two branches. PostgreSQL takes
# the longest match of a top-level alternation, so a valid district prefix (first branch: a city,
# then a short district name with nothing of a street, town or estate, up to its 区/县/旗) wins
# over the city prefix (second branch: up to the first 市/州/盟, or the 市 of 州市, with nothing
# of a street), which is always shorter; Python tries them in that order. No match: nothing.
#
# Anchored, with every branch ending at the first district, city or street character, the
# regex reads only the head of the address, however long the rest. Cutting a prefix with strpos
# first costs more than it saves: each strpos scans the whole value. Measured on a million
# stored addresses of 16-40 characters, sum(length(mask)): previous expression (six strpos,
# first 区 anywhere) 0.35 s, this one 0.58 s, strpos-bounded prefix + this regex 1.0 s; with
# 100 more characters each: 1.06 s, 0.75 s, 2.2 s. Keep the pattern anchored and free of `.`.
ADDRESS_HEAD = f"{ADDRESS_DISTRICT_HEAD}|{ADDRESS_CITY_HEAD}"


def _address(col: sql.Composable) -> sql.Composed:
    text = sql.SQL("({}::text)").format(col)
    return sql.SQL(
        # NULL and '' stay as they are (NULL <> '' is not true either).
        "CASE WHEN {t} <> '' THEN coalesce(substring({t} FROM {head}), '') || '****' ELSE {t} END"
    ).format(t=text, head=sql.Literal(ADDRESS_HEAD))


def _year_only(col: sql.Composable, data_type: str) -> sql.Composed:
    if data_type == DataType.DATE:
        return sql.SQL("extract(year from {})::int").format(col)
    if data_type == DataType.DATETIME:
        return sql.SQL("extract(year from {} AT TIME ZONE 'UTC')::int").format(col)
    text = sql.SQL("({}::text)").format(col)
    return sql.SQL("CASE WHEN left({t}, 4) ~ '^[0-9]+$' THEN left({t}, 4)::int END").format(t=text)


def masked_expression(rule: str, col: sql.Composable, data_type: str) -> sql.Composable | None:
    """The SQL for `rule` applied to `col`, or None when the rule is applied in Python."""
    if rule == "none":
        return col
    if rule == "id_card":
        return _keep(col, 6, 4)
    if rule == "mobile":
        return _keep(col, 3, 4)
    if rule == "bank_card":
        return _keep(col, 4, 4)
    if rule == "name":
        return _name(col)
    if rule == "address":
        return _address(col)
    if rule == "year_only":
        return _year_only(col, data_type)
    if rule == "redact":
        return sql.SQL("NULL")
    if rule in PYTHON_RULES:
        return None
    raise ValueError(f"no SQL for masking rule {rule!r}")


@lru_cache(maxsize=4096)
def masked_column(rule: str, name: str, data_type: str) -> sql.Composable | None:
    """masked_expression of the column `name`, rendered to SQL text once: every read composes
    the same few expressions, and walking their trees again each time cost more than the query
    plan of a key lookup. A clear column stays an Identifier (callers format those by type)."""
    column = sql.Identifier(name)
    expr = masked_expression(rule, column, data_type)
    if expr is None or expr is column:
        return expr
    connection.ensure_connection()
    return sql.SQL(expr.as_string(connection.connection))
