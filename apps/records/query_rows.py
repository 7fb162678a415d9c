"""The rows a read may return or show a field on, from the grants' row filters (a field given
only by grants with row filters is readable on the rows one of them matches: govdata.policy):
conditions that keep a read to those rows, and the literal ones that NULL a field elsewhere."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from psycopg2 import sql

from apps.records.query_values import lookup_condition, split_lookup

if TYPE_CHECKING:
    from apps.records.query import RecordQuery


def rows_restrict(
    query: RecordQuery, decision, used: Sequence[str], types
) -> list[tuple[dict, ...]]:
    """Keep the read to the rows on which every field in `used` is readable (for a field given
    only by grants with row filters, the rows one of those filters matches); returns the row
    limits applied."""
    seen: list[tuple[dict, ...]] = []
    for name in dict.fromkeys(used):
        access = decision.fields.get(name)
        rows = getattr(access, "rows", None)
        if rows is None or rows in seen:
            continue
        seen.append(rows)
        condition, values = rows_condition(rows, types, literal=False)
        query.where.append(condition)
        query.params.extend(values)
    return seen


def rows_condition(
    rows: tuple[dict, ...], types: Mapping[str, str], *, literal: bool
) -> tuple[sql.Composable, list[Any]]:
    """The condition "one of these row filters holds" (each filter: all its lookups), with its
    values as parameters, or as literals for a condition inside the select list. A filter on
    a field that no longer exists matches nothing (fail closed)."""
    alternatives: list[sql.Composable] = []
    params: list[Any] = []
    for row_filter in rows:
        conditions: list[sql.Composable] = []
        values: list[Any] = []
        for param, raw in row_filter.items():
            field_name, lookup = split_lookup(param)
            if field_name not in types:
                conditions, values = [sql.SQL("FALSE")], []
                break
            cond, value = lookup_condition(
                field_name, lookup, raw, types[field_name], literal=literal
            )
            if not literal:
                values.append(value)
            conditions.append(cond)
        params.extend(values)
        alternatives.append(sql.SQL("(") + sql.SQL(" AND ").join(conditions) + sql.SQL(")"))
    condition = sql.SQL("(") + sql.SQL(" OR ").join(alternatives or [sql.SQL("FALSE")])
    return condition + sql.SQL(")"), params
