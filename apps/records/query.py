"""Building the read of a dataset's records for one caller: projection, filters, ordering, keyset
pagination and masking, all as one parameterised SQL statement over the dataset's typed table
(apps.records.reads runs it).

Security rules (product.md, issue 5): only fields the policy decision lists are selected; filters,
ordering and the key lookup are only accepted on fields readable *in clear*; anything else raises
QueryForbidden naming the field, never a value. The grants' row filters limit rows and values
(apps.records.query_rows). Masking is an SQL expression, so that a masked value does not leave
the database in clear (except `hash`, which needs HMAC and is applied in Python before anything
is returned).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from psycopg2 import sql

from apps.records.query_json import TID, guarded, json_values, json_wrap
from apps.records.query_rows import rows_condition, rows_restrict
from apps.records.query_values import (
    CODE_TYPES,
    QueryInvalid,
    lookup_condition,
    normalise_code,
    parse_value,
    split_lookup,
)
from apps.records.sql_masking import PYTHON_RULES, masked_column
from apps.records.store import ident, live_table
from govdata.masking import make_masker

__all__ = [
    "QueryForbidden",
    "QueryInvalid",
    "RecordQuery",
    "record_query_build",
    "export_statement",
    "lookup_key",
    "page_size_parse",
]

MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 100
RESERVED_PARAMS = frozenset({"fields", "ordering", "cursor", "page_size", "format"})
_TID = TID
# Internal names start with an underscore: a field name never does (`[a-z][a-z0-9_]{0,62}`,
# apps.catalog.models.identifier_validator), so none can be taken for a field.
_CURSOR_TID = "__govdata_cursor_tid"
# A cursor is "<values>.<MAC>": the MAC (keyed by SECRET_KEY) binds the values to the query
# they continue. 96 bits: a forgery is guessing them, one request per guess.
_CURSOR_SALT = "apps.records.query.cursor"
_CURSOR_MAC_BYTES = 12
_TID_FORMAT = re.compile(r"\(([0-9]{1,10}),([0-9]{1,5})\)\Z")
_PAGE_SIZE_FORMAT = re.compile(r"[0-9]{1,9}\Z")


def _is_tid(value: Any) -> bool:
    """A row position PostgreSQL accepts: (block, offset), a 32-bit block and a 16-bit offset.
    A cursor is the caller's text: anything else must be a 400, not a database error."""
    match = _TID_FORMAT.match(value) if isinstance(value, str) else None
    return bool(match) and int(match[1]) <= 0xFFFFFFFF and int(match[2]) <= 0xFFFF


def page_size_parse(
    raw: str | None, *, default: int = DEFAULT_PAGE_SIZE, maximum: int = MAX_PAGE_SIZE
) -> int:
    """`page_size` of a page read: ASCII digits only (int() would also take spaces, `1_000`
    and full-width digits), from 1 to `maximum` (record pages: MAX_PAGE_SIZE); `default` when
    not given. QueryInvalid naming `page_size` otherwise."""
    if raw is None:
        return default
    if not _PAGE_SIZE_FORMAT.match(raw) or not 1 <= int(raw) <= maximum:
        raise QueryInvalid(
            _("“page_size” must be a whole number from 1 to %(max)d.") % {"max": maximum},
            "page_size",
        )
    return int(raw)


class QueryForbidden(Exception):
    """403: the caller asked for, filtered on or ordered by a field it may not read in clear."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field_name = field_name
        self.message = message


@dataclass
class RecordQuery:
    dataset_id: int
    columns: list[str]  # output names, in output order
    select: list[sql.Composable]  # one expression per output column
    where: list[sql.Composable] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (column or _TID, descending)
    python_maskers: dict[int, Callable[[Any], Any]] = field(default_factory=dict)
    # Output position -> the condition (literal SQL) of the rows on which that column is
    # readable: elsewhere it is NULL (a field given only by grants with row filters).
    guards: dict[int, sql.Composable] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)  # as asked, for the audit record
    data_types: dict[str, str] = field(default_factory=dict)
    key_field: str = ""
    ordered: bool = False  # the caller asked for an ordering (else exports stream unordered)
    department_id: int | None = None  # the reader's department (a cursor is bound to it)

    @property
    def table(self) -> sql.Composed:
        return ident(live_table(self.dataset_id))

    def fields_with_masks(self, decision) -> dict[str, str]:
        return {name: decision.fields[name].mask for name in self.columns}

    def grants_relied_on(self, decision) -> tuple[int, ...]:
        """The grants giving the fields this read returns, filters or orders by (for its audit
        event): not every grant the department holds on the dataset."""
        used = {*self.columns, *(split_lookup(p)[0] for p in self.filters)}
        used.update(name for name, _desc in self.order)
        ids = {
            g for name in used if name in decision.fields for g in decision.fields[name].grant_ids
        }
        return tuple(sorted(ids))


def _field_types(dataset) -> dict[str, str]:
    return {f.name: f.data_type for f in dataset.fields.all()}


def _require_clear(decision, name: str, types: Mapping[str, str], what: str) -> None:
    if name not in types:
        raise QueryInvalid(_("Unknown field “%(field)s”.") % {"field": name}, name)
    if not decision.readable(name):
        raise QueryForbidden(
            name, _("You may not %(what)s the field “%(field)s”.") % {"what": what, "field": name}
        )
    if not decision.clear(name):
        raise QueryForbidden(
            name,
            _("The field “%(field)s” is masked for you; you may not %(what)s it.")
            % {"what": what, "field": name},
        )


def record_query_build(
    *,
    dataset,
    decision,
    params: Mapping[str, Any],
    hash_key: bytes | None = None,
    uses: Sequence[str] = (),
) -> RecordQuery:
    """Validate the caller's query string against `decision` and build the SQL.

    `params` maps parameter names to a string; `uses` names fields the caller adds conditions
    on itself (a key lookup's key), kept to the rows where they are readable like the
    query's own. Raises QueryForbidden (403) or QueryInvalid (400)."""
    types = _field_types(dataset)
    wanted = params.get("fields")
    if wanted:
        names = [n.strip() for n in str(wanted).split(",") if n.strip()]
        if not names:
            raise QueryInvalid(_("“fields” names no field."), "fields")
        for name in names:
            if name not in types:
                raise QueryInvalid(_("Unknown field “%(field)s”.") % {"field": name}, name)
            if not decision.readable(name):
                raise QueryForbidden(
                    name, _("You may not read the field “%(field)s”.") % {"field": name}
                )
        names = list(dict.fromkeys(names))
    else:
        names = [n for n in decision.fields if n in types]
    query = RecordQuery(
        dataset_id=dataset.pk,
        columns=names,
        select=[],
        data_types=types,
        key_field=dataset.key_field,
        department_id=decision.department_id,
    )
    for position, name in enumerate(names):
        rule = decision.fields[name].mask
        expr = masked_column(rule, name, types[name])
        if expr is None:
            expr = sql.Identifier(name)
            query.python_maskers[position] = make_masker(
                rule, hash_key=hash_key if rule in PYTHON_RULES else None
            )
        query.select.append(expr)

    for param, raw in params.items():
        if param in RESERVED_PARAMS:
            continue
        name, lookup = split_lookup(param)
        _require_clear(decision, name, types, _("filter on"))
        cond, value = lookup_condition(name, lookup, raw, types[name], param=param)
        query.where.append(cond)
        query.params.append(value)
        query.filters[param] = raw

    ordering = params.get("ordering")
    if ordering:
        for token in str(ordering).split(","):
            token = token.strip()
            if not token:
                continue
            desc = token.startswith("-")
            name = token[1:] if desc else token
            if not name or name.startswith("-"):  # "-" or "--district": not "-district"
                raise QueryInvalid(
                    _("“ordering” takes field names, each with at most one leading “-”."),
                    "ordering",
                )
            _require_clear(decision, name, types, _("order by"))
            if name in (o[0] for o in query.order):  # "district,-district": which one?
                raise QueryInvalid(
                    _("“ordering” names the field “%(field)s” more than once.") % {"field": name},
                    "ordering",
                )
            query.order.append((name, desc))
            query.ordered = True
    # Fields given only by grants with row filters: the rows a read returns are those on which
    # every field it selects rows by (filters, ordering, a looked-up key) is readable; a field
    # it only returns is NULL on the rows where it is not. So an added, narrower grant never
    # hides a row the department could read before, and no hidden value steers the result.
    used = [*(split_lookup(p)[0] for p in query.filters), *(o[0] for o in query.order), *uses]
    # A unique tiebreaker: the key when the caller sees it in clear (on every row, or on those
    # the read keeps to anyway), else the row's position, so that neither the order of hidden
    # key values nor, through the next page's cursor, a hidden key is revealed.
    key = dataset.key_field
    key_usable = decision.clear(key) and (decision.fields[key].rows is None or key in used)
    tiebreak = key if key_usable else _TID
    if tiebreak not in (o[0] for o in query.order):
        query.order.append((tiebreak, False))
        used.append(tiebreak)
    kept_to = rows_restrict(query, decision, used, types)
    for position, name in enumerate(names):
        rows = decision.fields[name].rows
        if rows is not None and rows not in kept_to:
            query.guards[position] = rows_condition(rows, types, literal=True)[0]
    if names and len(query.guards) == len(names):
        # Nothing returned is readable on every row: leave out the rows on which nothing is
        # (a row of NULLs would still tell that a record exists outside the grants' rows).
        shown = [rows_condition(decision.fields[n].rows, types, literal=False) for n in names]
        query.where.append(sql.SQL("(") + sql.SQL(" OR ").join(c for c, _v in shown) + sql.SQL(")"))
        query.params.extend(v for _c, values in shown for v in values)
    return query


def _order_sql(query: RecordQuery, name: str) -> sql.Composable:
    """An order column, qualified with the table: in ORDER BY a bare name means an output
    column of that name first, and a masked expression's output is named after its function
    (`case`, `extract`, `json_build_object`), so ordering by a field of such a name would sort
    by another column's masked value or fail as ambiguous."""
    column = sql.SQL("ctid") if name == _TID else sql.Identifier(name)
    return sql.SQL("{}.{}").format(query.table, column)


def _after(query: RecordQuery, values: Sequence[Any]) -> tuple[sql.Composable, list[Any]]:
    """Rows strictly after `values` in the query's order (NULL sorts as the largest value,
    PostgreSQL's default for both directions)."""
    ors: list[sql.Composable] = []
    params: list[Any] = []
    last = len(query.order) - 1
    for i, (name, desc) in enumerate(query.order):
        ands: list[sql.Composable] = []
        for j in range(i):
            prev, value = query.order[j][0], values[j]
            if value is None:
                ands.append(sql.SQL("{} IS NULL").format(_order_sql(query, prev)))
            else:
                ands.append(sql.SQL("{} = %s").format(_order_sql(query, prev)))
                params.append(value)
        col, value = _order_sql(query, name), values[i]
        if i == last:  # the tiebreaker is never NULL
            cast = sql.SQL("::tid") if name == _TID else sql.SQL("")
            op = sql.SQL("<" if desc else ">")
            ands.append(sql.SQL("{} {} %s{}").format(col, op, cast))
            params.append(value)
        elif value is not None and desc:
            ands.append(sql.SQL("{} < %s").format(col))
            params.append(value)
        elif value is not None:
            ands.append(sql.SQL("({} > %s OR {} IS NULL)").format(col, col))
            params.append(value)
        elif desc:
            ands.append(sql.SQL("{} IS NOT NULL").format(col))
        else:
            ands.append(sql.SQL("FALSE"))
        ors.append(sql.SQL("(") + sql.SQL(" AND ").join(ands) + sql.SQL(")"))
    return sql.SQL("(") + sql.SQL(" OR ").join(ors) + sql.SQL(")"), params


def _cursor_mac(query: RecordQuery, payload: str) -> str:
    """The MAC of a cursor's values for `query`: over what the cursor continues (dataset,
    reading department, ordering with its tiebreak, filters as asked), so that a cursor taken
    to another query fails to verify instead of starting somewhere arbitrary. Not over the
    projection: a position in the order is the same whatever columns a page returns, and the
    default projection follows the department's grants, so a grant given during a walk would
    otherwise end it with a 400."""
    bound = orjson.dumps(
        [query.dataset_id, query.department_id, query.order, sorted(query.filters.items())],
        default=str,
    )
    # `bound` is one JSON array: it ends where the payload begins, whatever either holds.
    mac = salted_hmac(_CURSOR_SALT, bound + payload.encode(), algorithm="sha256").digest()
    return base64.urlsafe_b64encode(mac[:_CURSOR_MAC_BYTES]).decode()


def _invalid_cursor() -> QueryInvalid:
    # One message for every bad cursor: which check failed is of no use to a caller.
    return QueryInvalid(
        _("The cursor is not valid: use the “next” link of the previous page of this query."),
        "cursor",
    )


def encode_cursor(query: RecordQuery, values: Sequence[Any]) -> str:
    """The cursor of the page after the row whose order values are `values`."""
    payload = base64.urlsafe_b64encode(orjson.dumps(list(values), default=str))
    payload_text = payload.decode().rstrip("=")
    return f"{payload_text}.{_cursor_mac(query, payload_text)}"


def decode_cursor(query: RecordQuery, cursor: str) -> list[Any]:
    """The order values of a cursor made by encode_cursor for this same query (else a 400),
    each checked as a filter value of its field would be."""
    payload, dot, mac = cursor.rpartition(".")
    if not (dot and cursor.isascii()) or not constant_time_compare(
        mac, _cursor_mac(query, payload)
    ):
        raise _invalid_cursor()
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, orjson.JSONDecodeError) as exc:
        raise _invalid_cursor() from exc
    if not isinstance(raw, list) or len(raw) != len(query.order):
        raise _invalid_cursor()
    values: list[Any] = []
    for (name, _desc), value in zip(query.order, raw, strict=True):
        if name == _TID:
            if not _is_tid(value):
                raise _invalid_cursor()
            values.append(value)
        elif value is None:
            values.append(value)
        else:
            try:
                values.append(parse_value(value, query.data_types[name], name, "cursor"))
            except QueryInvalid as exc:
                raise _invalid_cursor() from exc
    return values


def select_statement(
    query: RecordQuery,
    *,
    after: list[Any] | None,
    limit: int | None,
    order_columns: bool = True,
    select: sql.Composable | None = None,
    ordered: bool = True,
    also: tuple[sql.Composable, list[Any]] | None = None,
) -> tuple[sql.Composed, list[Any]]:
    columns = [guarded(query, i, expr) for i, expr in enumerate(query.select)]
    if order_columns:  # the raw values of the order columns make the next page's cursor
        columns.extend(
            # Aliased: unnamed, it would be an output column called "ctid", and ORDER BY ctid
            # would sort by its text ("(10,1)" before "(2,1)") while the next page's condition
            # compares row positions, skipping whole blocks of rows.
            sql.SQL("ctid::text AS {}").format(sql.Identifier(_CURSOR_TID))
            if name == _TID
            else sql.Identifier(name)
            for name, _desc in query.order
        )
    where = list(query.where)
    params = list(query.params)
    if after is not None:
        cond, extra = _after(query, after)
        where.append(cond)
        params.extend(extra)
    if also is not None:
        where.append(also[0])
        params.extend(also[1])
    head = select if select is not None else sql.SQL("SELECT ") + sql.SQL(", ").join(columns)
    statement = sql.SQL("{} FROM {}").format(head, query.table)
    if where:
        statement += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
    if ordered:
        order = [
            sql.SQL("{} {}").format(_order_sql(query, n), sql.SQL("DESC" if d else "ASC"))
            for n, d in query.order
        ]
        statement += sql.SQL(" ORDER BY ") + sql.SQL(", ").join(order)
    if limit is not None:
        statement += sql.SQL(" LIMIT %s")
        params.append(limit)
    return statement, params


def finish_row(query: RecordQuery, row: Sequence[Any]) -> list[Any]:
    out = list(row[: len(query.columns)])
    for position, masker in query.python_maskers.items():
        out[position] = masker(out[position])
    return out


def lookup_key(*, dataset, key: str) -> str:
    """`key` as sync stores a value of the key field's type (govdata.validation), so that a
    lookup finds what a filter on the stored value would: resident ID numbers and credit codes
    trimmed, half-width and upper-case (a lower-case check digit `x`), by the normalisation
    filters on such fields use too (apps.records.query_values.normalise_code). Nothing is
    validated here: a key that is not a valid number is simply not found."""
    data_type = next((f.data_type for f in dataset.fields.all() if f.name == dataset.key_field), "")
    if data_type not in CODE_TYPES:
        return key
    return normalise_code(key)


def key_statement(
    *,
    dataset,
    decision,
    key: str,
    hash_key: bytes | None,
    as_json: bool,
    params: Mapping[str, Any] | None = None,
):
    """The lookup of the record whose key is `key` (normalised by lookup_key), with the
    projection and filters of `params` validated as for a list read (an ordering is validated,
    then dropped: one record has no order). The query's `filters` (for the audit record) hold
    the key as looked up and the filters of `params`."""
    key_field = dataset.key_field
    base = record_query_build(
        dataset=dataset,
        decision=decision,
        params=params or {},
        hash_key=hash_key,
        uses=[key_field],
    )
    types = base.data_types
    _require_clear(decision, key_field, types, _("look up by"))
    key = lookup_key(dataset=dataset, key=key)
    value = parse_value(key, types[key_field], key_field)
    base.filters = {**base.filters, key_field: key}
    base.where.insert(0, sql.SQL("{} = %s").format(sql.Identifier(key_field)))
    base.params.insert(0, value)
    base.order = []
    values = json_values(base) if as_json else None
    columns = [guarded(base, i, expr) for i, expr in enumerate(base.select)]
    select = sql.SQL("*") if values is not None else sql.SQL(", ").join(columns)
    statement = sql.SQL("SELECT {} FROM {} WHERE {} LIMIT 1").format(
        select, base.table, sql.SQL(" AND ").join(base.where)
    )
    if values is not None:
        statement = json_wrap(values, statement, [])
    return base, statement


def export_statement(
    query: RecordQuery,
    *,
    select: sql.Composable | None = None,
    pages: tuple[int, int | None] | None = None,
) -> tuple[sql.Composed, list[Any]]:
    """The SELECT of the output columns (or of `select`) for COPY: in the caller's ordering if
    one was asked for, else in storage order. Sorting a million rows nobody asked to have
    sorted would cost more than the export itself, and storage order is what the `ctid`
    tiebreak gives anyway, so it reveals nothing about hidden values. `pages` (first, end;
    None for no end) keeps the rows stored on those heap pages only: a part of an unordered
    export, read with a TID range scan."""
    also = None
    if pages is not None:
        if query.ordered:
            raise ValueError("an ordered export cannot be read in parts")
        first, end = pages
        condition, values = sql.SQL("ctid >= %s::tid"), [f"({first},0)"]
        if end is not None:
            condition += sql.SQL(" AND ctid < %s::tid")
            values.append(f"({end},0)")
        also = (condition, values)
    return select_statement(
        query,
        after=None,
        limit=None,
        order_columns=False,
        select=select,
        ordered=query.ordered,
        also=also,
    )
