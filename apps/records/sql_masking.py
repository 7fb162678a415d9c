"""Masking rules as SQL expressions, so that a masked value never leaves the database in clear.

Each expression must return exactly what govdata.masking returns for the same value (tests in
tests/records/test_query.py compare both on the same rows). `hash` needs the per-consumer key and
HMAC; it is applied in Python on the way out (see apps.records.query.RecordQuery.python_maskers).
"""

from __future__ import annotations

from functools import lru_cache

from django.db import connection
from psycopg2 import sql

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
    return sql.SQL(
        "CASE WHEN {t} IS NULL OR {t} = '' THEN {t} "
        "ELSE left({t}, 1) || repeat('*', greatest(length({t}) - 1, 1)) END"
    ).format(t=text)


def _first_of(text: sql.Composable, chars: str) -> sql.Composed:
    # The shortest prefix ending in one of `chars` (what the lazy regex in govdata.masking
    # matches), with strpos instead of a regex: several times cheaper on exports.
    positions = [sql.SQL("nullif(strpos({}, {}), 0)").format(text, sql.Literal(c)) for c in chars]
    return sql.SQL("left({}, least({}))").format(text, sql.SQL(", ").join(positions))


def _address(col: sql.Composable) -> sql.Composed:
    text = sql.SQL("({}::text)").format(col)
    # Same rule as govdata.masking: up to the district, else up to the city, else 3 chars.
    # (市辖区 ends in 区 and 县级市 starts with 县, so single characters are enough.)
    return sql.SQL(
        "CASE WHEN {t} IS NULL THEN NULL ELSE coalesce({district}, {city}, left({t}, 3)) "
        "|| '****' END"
    ).format(t=text, district=_first_of(text, "区县旗"), city=_first_of(text, "市州盟"))


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
