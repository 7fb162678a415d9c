"""Field names are chosen by providers: no valid one may collide with a name the record queries
use themselves (the aliases of the JSON reads, the row position, the output names PostgreSQL
gives masked expressions). A dataset with fields named after every one of them reads, pages,
orders, exports and looks up like any other."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from psycopg2 import sql

from apps.records import query as query_module
from apps.records import query_json
from apps.records.query import export_statement, record_query_build
from apps.records.query_json import json_columns
from apps.records.reads import (
    record_by_key,
    record_by_key_json,
    record_by_key_read,
    records_iter,
    records_page,
    records_page_json,
)
from apps.records.store import store_replace_rows
from govdata.masking import make_masker
from tests.records.decisions import decision

# The aliases the JSON reads used to have (`t`, `v`), and the names PostgreSQL gives an
# unnamed output column of a masked expression or of an export's select list.
COLLIDING = {
    "t": "string",
    "v": "integer",
    "case": "string",
    "extract": "date",
    "row_to_json": "string",
    "json_build_object": "decimal",
    "to_char": "datetime",
    "read": "string",  # the audited lookup's CTE (apps.audit.chain)
}
TYPES = {"code": "string", **COLLIDING, "label": "string", "born": "date", "note": "string"}
# label: masked by a CASE (output "case"), born: by extract() (output "extract").
MASKS = {**dict.fromkeys(["code", *COLLIDING], "none"), "label": "name", "born": "year_only"}
ROWS = [
    {
        "code": f"k{i}",
        "t": f"t{(i * 3) % 5}",
        "v": (i * 2) % 5 - 2,
        "case": f"c{(5 - i) % 5}",
        "extract": dt.date(2020, 1, 1) + dt.timedelta(days=(i * 4) % 5),
        "row_to_json": f"r{(i + 2) % 5}",
        "json_build_object": f"{(i * 3 + 1) % 5}.5",
        "to_char": dt.datetime(2024, 5, 1, (i * 2 + 1) % 5, tzinfo=dt.UTC),
        "read": f"x{(i + 4) % 5}",
        "label": f"名{4 - i}号",
        "born": dt.date(1990 + i, 6, 1),
        "note": f"n{i}",
    }
    for i in range(5)
]


@pytest.fixture
def colliding(world):
    from tests.factories import DatasetFactory, FieldFactory

    ds = DatasetFactory(provider=world.provider, key_field="code")
    for position, (name, data_type) in enumerate(TYPES.items()):
        FieldFactory(dataset=ds, name=name, data_type=data_type, position=position)
    store_replace_rows(ds, ROWS)
    return type(ds).objects.prefetch_related("fields").get(pk=ds.pk)


def _query(world, ds, masks, params):
    d = decision(ds, world.consumer, masks)
    return d, record_query_build(dataset=ds, decision=d, params=params, hash_key=b"k")


def _expected_codes(ordering: str) -> list[str]:
    name = ordering.lstrip("-")
    rows = sorted(ROWS, key=lambda r: r[name], reverse=ordering.startswith("-"))
    return [r["code"] for r in rows]


def _json_equivalent(rows) -> list:
    return orjson.loads(orjson.dumps(rows, default=str))


def test_no_internal_name_is_a_valid_field_name():
    from apps.catalog.models import identifier_validator

    internal = [
        query_json.TID,
        query_json.ROW_TID,
        query_json.ROW_ALIAS,
        query_json.VALUES_ALIAS,
        query_module._CURSOR_TID,
    ]
    for name in internal:
        with pytest.raises(ValidationError):
            identifier_validator(name)
    for name in COLLIDING:
        identifier_validator(name)  # valid field names: the test below must read them


@pytest.mark.parametrize("ordering", [*COLLIDING, *(f"-{n}" for n in COLLIDING)])
def test_fields_named_like_internal_names_page_and_order_in_json(world, colliding, ordering):
    _d, query = _query(world, colliding, MASKS, {"ordering": ordering})
    walked, cursor = [], None
    while True:
        body, _n, cursor = records_page_json(query=query, page_size=2, cursor=cursor)
        walked.extend(orjson.loads(body))
        if cursor is None:
            break
    everything, _ = records_page(query=query, page_size=100)
    assert walked == _json_equivalent(everything)
    assert [r["code"] for r in walked] == _expected_codes(ordering)
    assert [r["label"] for r in walked] == [
        make_masker("name")(next(s["label"] for s in ROWS if s["code"] == r["code"]))
        for r in walked
    ]


@pytest.mark.parametrize("ordering", [*COLLIDING, *(f"-{n}" for n in COLLIDING)])
def test_fields_named_like_internal_names_page_and_order_with_python_masks(
    world, colliding, ordering
):
    # `hash` is applied in Python: pages are read as rows with their order columns.
    _d, query = _query(world, colliding, {**MASKS, "note": "hash"}, {"ordering": ordering})
    walked, cursor = [], None
    while True:
        page, cursor = records_page(query=query, page_size=2, cursor=cursor)
        walked.extend(page)
        if cursor is None:
            break
    assert [r["code"] for r in walked] == _expected_codes(ordering)
    assert walked[0]["note"] == make_masker("hash", hash_key=b"k")(
        next(s["note"] for s in ROWS if s["code"] == walked[0]["code"])
    )


@pytest.mark.parametrize("ordering", [*COLLIDING, *(f"-{n}" for n in COLLIDING)])
def test_fields_named_like_internal_names_order_exports(world, colliding, ordering):
    _d, query = _query(world, colliding, MASKS, {"ordering": ordering})
    with transaction.atomic():
        rows = list(records_iter(query=query))
    assert [r[0] for r in rows] == _expected_codes(ordering)
    # The NDJSON export's statement: one json_build_object per row (apps.api.export).
    pairs = [part for name, expr in json_columns(query) for part in (sql.Literal(name), expr)]
    select = sql.SQL("SELECT json_build_object({})::text").format(sql.SQL(", ").join(pairs))
    statement, params = export_statement(query, select=select)
    with connection.cursor() as cur:
        cur.execute(statement, params)
        lines = [orjson.loads(r[0]) for r in cur.fetchall()]
    assert [r["code"] for r in lines] == _expected_codes(ordering)


@pytest.mark.parametrize("masks", [MASKS, {**MASKS, "note": "hash"}], ids=["sql", "python"])
def test_fields_named_like_internal_names_are_looked_up_by_key(world, colliding, masks):
    d = decision(colliding, world.consumer, masks)
    _q, as_dict = record_by_key(dataset=colliding, decision=d, key="k3", hash_key=b"k")
    _q, as_json = record_by_key_json(dataset=colliding, decision=d, key="k3", hash_key=b"k")
    assert orjson.loads(as_json) == _json_equivalent(as_dict)
    assert as_dict["v"] == ROWS[3]["v"] and as_dict["t"] == ROWS[3]["t"]
    query, _statement, read_sql = record_by_key_read(
        dataset=colliding, decision=d, key="k3", hash_key=b"k"
    )
    if read_sql is not None:  # the text the audited lookup runs inside its own statement
        with connection.cursor() as cur:
            cur.execute(read_sql, query.params)
            assert orjson.loads(cur.fetchone()[0]) == _json_equivalent(as_dict)


def test_filters_on_fields_named_like_internal_names(world, colliding):
    params = {"v__gte": "0", "case__in": "c0,c4,c3", "t__contains": "t"}
    _d, query = _query(world, colliding, MASKS, params)
    body, count, _ = records_page_json(query=query, page_size=10)
    expected = [r["code"] for r in ROWS if r["v"] >= 0 and r["case"] in {"c0", "c4", "c3"}]
    assert sorted(r["code"] for r in orjson.loads(body)) == sorted(expected) and count
