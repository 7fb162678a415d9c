"""Set-wise validation of the CSV fast path (apps/sync/fastpath.py): the INSERT ... SELECT that
moves every row the SQL can accept with certainty from the raw text table into the typed staging
table, with the Python validator's own normal form. Rows it does not accept stay for Python."""

from __future__ import annotations

import io

from psycopg2 import sql

from apps.records import store
from govdata.rows import MEMO_TYPES

# The same words and types as the Python path: the two must judge every value alike.
from govdata.validation import _FALSE, _STRIP, _TRUE, _id_date_ok, _region_ok
from govdata.vocabulary import DataType

# Types the Python path memoises (values repeat): PostgreSQL lists each column's distinct values in
# one pass, the Python validator itself judges each distinct value once, and the verdicts join
# back. Exact by construction, and cheap because these columns have few distinct values.
MEMO_MAX_DISTINCT = 50_000


def _distinct_values(cursor, raw_table: str, groups: dict[str, sql.Composable]) -> dict:
    """{group name: [distinct values]} of several columns/expressions in one scan."""
    if not groups:
        return {}
    names = list(groups)
    exprs = [groups[n] for n in names]
    cursor.execute(
        sql.SQL(
            "SELECT {cols}, GROUPING({cols}) FROM {t} WHERE n > 1 GROUP BY GROUPING SETS ({sets})"
        ).format(
            cols=sql.SQL(", ").join(exprs),
            t=store.ident(raw_table),
            sets=sql.SQL(", ").join(sql.SQL("({})").format(e) for e in exprs),
        )
    )
    found: dict[str, list] = {n: [] for n in names}
    width = len(names)
    for row in cursor.fetchall():
        mask = row[width]
        for i in range(width):  # GROUPING() bit is 0 for the column the row groups by
            if not mask & (1 << (width - 1 - i)):
                found[names[i]].append(row[i])
                break
    return found


def _estimated_distinct(cursor, raw_table: str) -> dict[str, float]:
    # a small sample is enough to tell "a few thousand" from "most rows"
    cursor.execute("SET default_statistics_target = 20")
    try:
        cursor.execute(sql.SQL("ANALYZE {}").format(store.ident(raw_table)))
    finally:
        cursor.execute("RESET default_statistics_target")
    cursor.execute(
        "SELECT attname, n_distinct FROM pg_stats WHERE schemaname = %s AND tablename = %s",
        [store.SCHEMA, raw_table],
    )
    return {name: float(n) for name, n in cursor.fetchall()}


def _memo_table(cursor, raw_table: str, i: int, values, check, required: bool) -> str:
    """A table (x, v) of the distinct raw values the Python validator accepts, v its output."""
    from govdata.validation import FieldError  # noqa: F401 - a ValueError, caught below

    table = f"{raw_table}_m{i}"[:63]
    lines = []
    for x in values:
        try:
            v = check(x)
        except (ValueError, TypeError, AttributeError):
            continue
        if v is None and required:
            continue
        quoted_v = "" if v is None else '"' + str(v).replace('"', '""') + '"'
        lines.append('"' + x.replace('"', '""') + '",' + quoted_v + "\n")
    store.drop_table(cursor, table)
    cursor.execute(
        sql.SQL("CREATE UNLOGGED TABLE {} (x text NOT NULL, v text)").format(store.ident(table))
    )
    store.copy_csv(cursor, table, ["x", "v"], io.StringIO("".join(lines)))
    cursor.execute(sql.SQL("ANALYZE {}").format(store.ident(table)))
    return table


def _field_sql(spec, pos: int | None, required: bool, memo: str | None, id_sets, alias: str):
    """(value expression, 'surely accepted' condition, join or None) of one field."""
    if pos is None:
        return sql.SQL("NULL"), sql.SQL("true"), None
    x = sql.Identifier(f"c{pos}")
    empty_ok = sql.SQL("false") if required else sql.SQL("{} = ''").format(x)
    dtype = spec.data_type
    if memo is not None:
        a = sql.Identifier(alias)
        return (
            sql.SQL("{}.v::{}").format(a, sql.SQL(store.SQL_TYPES[dtype])),
            sql.SQL("true"),
            sql.SQL("JOIN {} {} ON {}.x = {}").format(store.ident(memo), a, a, x),
        )
    if dtype in (DataType.STRING, DataType.ENUM):
        value = sql.SQL("nullif(btrim({}, {}), '')").format(x, sql.Literal(_STRIP))
        if dtype == DataType.STRING:
            sure = sql.SQL("{} IS NOT NULL").format(value) if required else sql.SQL("true")
        else:
            sure = sql.SQL("coalesce({v} = ANY({a}::text[]), {v} IS NULL AND {nr})").format(
                v=value,
                a=sql.Literal(list(spec.enum_values)),
                nr=sql.SQL("false" if required else "true"),
            )
        return value, sure, None
    if dtype == DataType.INTEGER:
        return (
            sql.SQL("nullif({}, '')::bigint").format(x),
            sql.SQL(
                "((octet_length({x}) BETWEEN 1 AND 18 AND ltrim({x}, '0123456789') = '') OR {e})"
            ).format(x=x, e=empty_ok),
            None,
        )
    if dtype == DataType.DECIMAL:
        return (
            sql.SQL("nullif({}, '')::numeric").format(x),
            sql.SQL("(govdata_sync_plain_decimal({}) OR {})").format(x, empty_ok),
            None,
        )
    if dtype == DataType.BOOLEAN:
        lx = sql.SQL("lower({})").format(x)
        return (
            sql.SQL(
                "CASE WHEN {lx} = ANY({t}) THEN true WHEN {lx} = ANY({f}) THEN false END"
            ).format(lx=lx, t=sql.Literal(sorted(_TRUE)), f=sql.Literal(sorted(_FALSE))),
            sql.SQL(
                "(({x} = ANY({all})) OR (octet_length({x}) <= 5 AND {lx} = ANY({all})) OR {e})"
            ).format(x=x, lx=lx, all=sql.Literal(sorted(_TRUE | _FALSE)), e=empty_ok),
            None,
        )
    if dtype == DataType.DATE:
        return (
            sql.SQL("govdata_sync_date({})").format(x),
            sql.SQL("(govdata_sync_date({}) IS NOT NULL OR {})").format(x, empty_ok),
            None,
        )
    if dtype == DataType.ID_CARD:
        prefixes, dates = id_sets[pos]
        return (
            sql.SQL("nullif(upper({}), '')").format(x),
            sql.SQL(
                "((govdata_sync_id_card_ok({x}) AND left({x}, 10) = ANY({p}::text[]) "
                "AND substr({x}, 7, 8) = ANY({d}::text[])) OR {e})"
            ).format(x=x, p=sql.Literal(prefixes), d=sql.Literal(dates), e=empty_ok),
            None,
        )
    if dtype == DataType.CREDIT_CODE:
        ux = sql.SQL("upper({})").format(x)
        return (
            sql.SQL("nullif({}, '')").format(ux),
            sql.SQL("((octet_length({}) = 18 AND govdata_sync_credit_code_ok({})) OR {})").format(
                x, ux, empty_ok
            ),
            None,
        )
    if dtype == DataType.MOBILE:
        return (
            sql.SQL("nullif({}, '')").format(x),
            sql.SQL("(govdata_sync_mobile_ok({}) OR {})").format(x, empty_ok),
            None,
        )
    # datetime (time zones, many ISO forms) with too many distinct values: only empty is sure here
    return sql.SQL("NULL"), empty_ok, None


def insert_sure(cursor, validator, raw_table: str, staging: str, columns, total: int) -> int:
    fields = list(
        zip(validator.specs, validator.positions, validator.required, validator.checks, strict=True)
    )
    distinct = _estimated_distinct(cursor, raw_table)
    groups: dict[str, sql.Composable] = {}
    for spec, pos, _req, _check in fields:
        if pos is None:
            continue
        col = f"c{pos}"
        if spec.data_type == DataType.ID_CARD:
            groups[f"r{pos}"] = sql.SQL("left({}, 10)").format(sql.Identifier(col))
            groups[f"d{pos}"] = sql.SQL("substr({}, 7, 8)").format(sql.Identifier(col))
        elif spec.data_type in MEMO_TYPES:
            estimate = distinct.get(col, -1.0)
            if estimate < 0:  # ANALYZE gives a share of the rows when it scales with them
                estimate = -estimate * total
            if 0 <= estimate <= MEMO_MAX_DISTINCT or spec.data_type == DataType.DATETIME:
                groups[col] = sql.Identifier(col)
    found = _distinct_values(cursor, raw_table, groups)
    id_sets = {}
    values, conditions, joins, memo_tables = [], [], [], []
    for i, (spec, pos, required, check) in enumerate(fields):
        memo = None
        if (
            pos is not None
            and f"c{pos}" in found
            and len(found[f"c{pos}"]) <= MEMO_MAX_DISTINCT * 4
        ):
            memo = _memo_table(cursor, raw_table, i, found[f"c{pos}"], check, required)
            memo_tables.append(memo)
        if pos is not None and spec.data_type == DataType.ID_CARD:
            id_sets[pos] = (
                [p for p in found[f"r{pos}"] if p is not None and _region_ok(p)],
                [d for d in found[f"d{pos}"] if d is not None and _id_date_ok(d)],
            )
        value, sure, join = _field_sql(spec, pos, required, memo, id_sets, f"m{i}")
        values.append(value)
        conditions.append(sure)
        if join is not None:
            joins.append(join)
    # The planner multiplies the selectivities of a dozen checks into "one row" and would then
    # pick nested loops over the value tables; hash joins are the right plan at any size.
    cursor.execute("SET enable_nestloop = off")
    cursor.execute("SET enable_mergejoin = off")
    try:
        cursor.execute(
            sql.SQL(
                "INSERT INTO {s} ({cols}) SELECT n, {vals} FROM {r} {joins} WHERE n > 1 AND {cond}"
            ).format(
                s=store.ident(staging),
                cols=sql.SQL(", ").join(sql.Identifier(c) for c in [store.ROW_COLUMN, *columns]),
                vals=sql.SQL(", ").join(values),
                r=store.ident(raw_table),
                joins=sql.SQL(" ").join(joins),
                cond=sql.SQL(" AND ").join(conditions),
            )
        )
        return cursor.rowcount
    finally:
        cursor.execute("RESET enable_nestloop")
        cursor.execute("RESET enable_mergejoin")
        for table in memo_tables:
            store.drop_table(cursor, table)
