"""Running the record queries that apps.records.query builds: pages (as dicts, or as JSON built
by PostgreSQL), key lookups, and every row of an export through a server-side cursor. Each
read is one SQL statement."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson
from django.db import connection
from psycopg2 import sql

from apps.records.query import (
    RecordQuery,
    decode_cursor,
    encode_cursor,
    finish_row,
    key_statement,
    select_statement,
)
from apps.records.query_json import ROW_TID, json_capable, json_values, json_wrap


def _fetch_page(
    query: RecordQuery,
    statement: sql.Composable,
    params: list[Any],
    page_size: int,
    order_from: int,
) -> tuple[list[tuple], str | None]:
    """The page's rows (the statement asks for one more, to know whether another page follows)
    and the next page's cursor: the order values from column `order_from` of its last row,
    bound to `query`."""
    with connection.cursor() as cur:
        cur.execute(statement, params)
        rows = cur.fetchall()
    if len(rows) <= page_size:
        return rows, None
    rows = rows[:page_size]
    return rows, encode_cursor(query, rows[-1][order_from:])


def records_page(
    *, query: RecordQuery, page_size: int, cursor: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of records (as dicts) and the cursor of the next page, in one SQL query."""
    after = decode_cursor(query, cursor) if cursor else None
    statement, params = select_statement(query, after=after, limit=page_size + 1)
    rows, next_cursor = _fetch_page(query, statement, params, page_size, len(query.columns))
    columns = query.columns
    if query.python_maskers:
        return [dict(zip(columns, finish_row(query, r), strict=True)) for r in rows], next_cursor
    n = len(columns)
    return [dict(zip(columns, r[:n], strict=True)) for r in rows], next_cursor


def record_by_key(
    *,
    dataset,
    decision,
    key: str,
    hash_key: bytes | None = None,
    params: Mapping[str, Any] | None = None,
):
    """The record whose key is `key`, or None. The key field must be readable in clear;
    `params` projects (`fields`) and filters as for a page (apps.records.query.key_statement)."""
    base, statement = key_statement(
        dataset=dataset,
        decision=decision,
        key=key,
        hash_key=hash_key,
        as_json=False,
        params=params,
    )
    row = _fetch_one(statement, base.params)
    if row is None:
        return base, None
    return base, dict(zip(base.columns, finish_row(base, row), strict=True))


def _fetch_one(statement: sql.Composable, params: list[Any]):
    with connection.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchone()


def records_page_json(
    *, query: RecordQuery, page_size: int, cursor: str | None = None
) -> tuple[bytes, int, str | None]:
    """records_page as a JSON array built by PostgreSQL (one query), its length and the next
    cursor; orjson on the rows when a column is masked in Python."""
    values = json_values(query)
    if values is None:
        rows, next_cursor = records_page(query=query, page_size=page_size, cursor=cursor)
        return orjson.dumps(rows, default=str), len(rows), next_cursor
    after = decode_cursor(query, cursor) if cursor else None
    star = sql.SQL("SELECT *, ctid AS {}").format(sql.Identifier(ROW_TID))
    inner, params = select_statement(query, after=after, limit=page_size + 1, select=star)
    statement = json_wrap(values, inner, query.order)
    rows, next_cursor = _fetch_page(query, statement, params, page_size, 1)
    body = "[" + ",".join([r[0] for r in rows]) + "]"
    return body.encode(), len(rows), next_cursor


def record_by_key_json(
    *,
    dataset,
    decision,
    key: str,
    hash_key: bytes | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[RecordQuery, bytes | None]:
    """record_by_key with the JSON object built by PostgreSQL (one query, no per-field Python
    work); falls back to orjson when a column is masked in Python."""
    base, statement = key_statement(
        dataset=dataset,
        decision=decision,
        key=key,
        hash_key=hash_key,
        as_json=True,
        params=params,
    )
    return base, record_key_json(base, statement)


def record_key_json(query: RecordQuery, statement: sql.Composable) -> bytes | None:
    """Run a key lookup's statement (from _key_statement) and give the record's JSON, or None."""
    row = _fetch_one(statement, query.params)
    if row is None:
        return None
    if json_capable(query):
        return row[0].encode()
    return orjson.dumps(dict(zip(query.columns, finish_row(query, row), strict=True)), default=str)


def record_by_key_read(
    *,
    dataset,
    decision,
    key: str,
    hash_key: bytes | None = None,
    params: Mapping[str, Any] | None = None,
) -> tuple[RecordQuery, sql.Composed, str | None]:
    """The statement of record_by_key_json, and the same as text to run inside another
    statement (the audited read of apps.audit.services.audit_record_read): (query, statement,
    SQL giving at most one row of the record's JSON). The text is None when a column is masked
    in Python; run the statement with record_key_json then."""
    base, statement = key_statement(
        dataset=dataset,
        decision=decision,
        key=key,
        hash_key=hash_key,
        as_json=True,
        params=params,
    )
    if not json_capable(base):
        return base, statement, None
    connection.ensure_connection()
    return base, statement, statement.as_string(connection.connection)


def records_iter(*, query: RecordQuery, itersize: int = 5000) -> Iterator[list[Any]]:
    """Every matching row (output columns only), through a server-side cursor so that memory
    stays constant. Must run inside a transaction (named cursors live in one)."""
    statement, params = select_statement(
        query, after=None, limit=None, order_columns=False, ordered=query.ordered
    )
    connection.ensure_connection()
    raw = connection.connection.cursor(name=f"export_{id(query):x}")
    raw.itersize = itersize
    try:
        raw.execute(statement, params)
        while True:
            rows = raw.fetchmany(itersize)
            if not rows:
                break
            for row in rows:
                yield finish_row(query, row)
    finally:
        raw.close()
