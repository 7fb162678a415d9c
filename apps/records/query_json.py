"""JSON of masked records built by PostgreSQL (row_to_json over a LATERAL of the masked
expressions), so that record reads return one text per row without per-field Python work. The
values come out exactly as orjson writes what psycopg returns for the same row (tests in
tests/records/test_query.py compare both)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from psycopg2 import sql

from govdata.vocabulary import DataType

if TYPE_CHECKING:
    from apps.records.query import RecordQuery

# Internal names start with an underscore: a field name never does (`[a-z][a-z0-9_]{0,62}`,
# apps.catalog.models.identifier_validator), so none can be taken for a field. A bare alias
# such as `v` could: row_to_json(v) would then be the field `v`, not the row of masked values.
TID = "__tid"  # the row position as an order column (apps.records.query)
ROW_ALIAS = "_row"  # the matching rows, with their raw order columns
VALUES_ALIAS = "_values"  # one row of masked values per matching row


def json_capable(query: RecordQuery) -> bool:
    """False when a column is masked in Python (`hash`): those rows go through orjson."""
    return not query.python_maskers


ROW_TID = "__govdata_tid"
_UTC_FORMAT = """'YYYY-MM-DD"T"HH24:MI:SS{}"+00:00"'"""


def _as_orjson(col: sql.Composable, data_type: str) -> sql.Composable:
    """A clear column as orjson writes the value psycopg returns (dates and the rest are the
    same in PostgreSQL's JSON)."""
    if data_type == DataType.DECIMAL:
        return sql.SQL("{}::text").format(col)  # orjson's default=str of a Decimal
    if data_type == DataType.DATETIME:  # UTC, microseconds only when not zero
        return sql.SQL(
            "to_char({c} AT TIME ZONE 'UTC', CASE WHEN"
            " mod(date_part('microseconds', {c})::bigint, 1000000) = 0 THEN "
            + _UTC_FORMAT.format("")
            + " ELSE "
            + _UTC_FORMAT.format(".US")
            + " END)"
        ).format(c=col)
    return col


def json_values(query: RecordQuery) -> sql.Composable | None:
    """`SELECT <masked expressions> AS <output names>`, for row_to_json in a LATERAL over the
    matching rows: the same JSON orjson gives for the same row (decimals as strings, ISO dates,
    compact); None when a column needs Python masking."""
    if not json_capable(query):
        return None
    values = [
        sql.SQL("{} AS {}").format(expr, sql.Identifier(name)) for name, expr in json_columns(query)
    ]
    return sql.SQL("SELECT ") + sql.SQL(", ").join(values)


def json_columns(query: RecordQuery) -> list[tuple[str, sql.Composable]]:
    """(output name, expression) of each column, valued as the JSON reads write it: masked
    expressions as they are, clear decimals and date-times as orjson writes them. Used by
    pages, lookups and NDJSON exports alike, so that a value has one JSON form everywhere."""
    columns = []
    for position, (name, expr) in enumerate(zip(query.columns, query.select, strict=True)):
        if isinstance(expr, sql.Identifier):
            expr = _as_orjson(expr, query.data_types[name])
        columns.append((name, guarded(query, position, expr)))
    return columns


def csv_columns(query: RecordQuery) -> list[sql.Composable]:
    """The output columns as the CSV export writes them: each value in the text the JSON reads
    give it (date-times in ISO 8601, UTC), booleans as true/false. COPY would write PostgreSQL's
    own text forms (t/f, `2026-01-01 02:00:00+00`), which spreadsheets do not read, and a
    column's form would differ between an export and a page."""
    columns = []
    for position, (name, expr) in enumerate(zip(query.columns, query.select, strict=True)):
        if isinstance(expr, sql.Identifier):
            data_type = query.data_types[name]
            if data_type == DataType.BOOLEAN:
                expr = sql.SQL("CASE WHEN {c} THEN 'true' WHEN NOT {c} THEN 'false' END").format(
                    c=expr
                )
            elif data_type == DataType.DATETIME:
                expr = _as_orjson(expr, data_type)
        columns.append(guarded(query, position, expr))
    return columns


def guarded(query: RecordQuery, position: int, expr: sql.Composable) -> sql.Composable:
    """The output column at `position`, NULL on the rows where its field is not readable (a
    field given only by grants with row filters: RecordQuery.guards)."""
    guard = query.guards.get(position)
    if guard is None:
        return expr
    return sql.SQL("CASE WHEN {} THEN {} END").format(guard, expr)


def json_wrap(values: sql.Composable, inner: sql.Composable, order: list) -> sql.Composed:
    """row_to_json of `values` over the rows of `inner` (which selects `*`), then the raw order
    columns; the masked expressions see only the row they mask."""
    row, out = sql.Identifier(ROW_ALIAS), sql.Identifier(VALUES_ALIAS)
    cols = [
        sql.SQL("{}.{}::text").format(row, sql.Identifier(ROW_TID))
        if name == TID
        else sql.SQL("{}.{}").format(row, sql.Identifier(name))
        for name, _desc in order
    ]
    head = sql.SQL("SELECT row_to_json({})::text").format(out)
    if cols:
        head += sql.SQL(", ") + sql.SQL(", ").join(cols)
    statement = sql.SQL("{} FROM ({}) {} CROSS JOIN LATERAL ({}) {}").format(
        head, inner, row, values, out
    )
    if order:
        statement += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(
            sql.SQL("{}.{} {}").format(
                row,
                sql.Identifier(ROW_TID if name == TID else name),
                sql.SQL("DESC" if desc else "ASC"),
            )
            for name, desc in order
        )
    return statement
