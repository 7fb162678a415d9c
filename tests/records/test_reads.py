"""Running record queries: key lookups (masked, row-filtered, key in clear only), the export
iterator, and pages and lookups as JSON built by PostgreSQL equal to the dict path."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from apps.records.query import QueryForbidden, record_query_build
from apps.records.reads import (
    record_by_key,
    record_by_key_json,
    records_iter,
    records_page,
    records_page_json,
)
from apps.records.store import store_replace_rows
from govdata.masking import make_masker
from tests.records.decisions import decision
from tests.records.rows import CLEAR_ALL, CONSUMER, ROWS


def test_key_lookup_needs_the_key_in_clear(loaded):
    d = decision(loaded.dataset, loaded.consumer, {"gender": "none", "id_number": "id_card"})
    with pytest.raises(QueryForbidden):
        record_by_key(dataset=loaded.dataset, decision=d, key=ROWS[0]["id_number"])


def test_key_lookup_returns_masked_record_or_none(loaded, django_assert_num_queries):
    d = decision(loaded.dataset, loaded.consumer, CONSUMER)
    loaded.dataset.fields.all()  # prefetched in real use
    ds = type(loaded.dataset).objects.prefetch_related("fields").get(pk=loaded.dataset.pk)
    with django_assert_num_queries(1):
        _, row = record_by_key(dataset=ds, decision=d, key=ROWS[0]["id_number"])
    assert row["name"] == "张*" and row["mobile"] == "138****0000"
    _, missing = record_by_key(dataset=ds, decision=d, key="nope")
    assert missing is None


def test_key_lookup_projects_and_filters_like_a_page(loaded):
    d = decision(loaded.dataset, loaded.consumer, CONSUMER)
    key = ROWS[0]["id_number"]
    query, row = record_by_key(
        dataset=loaded.dataset, decision=d, key=key, params={"fields": "name,gender"}
    )
    assert row == {"name": "张*", "gender": "女"} and query.filters == {"id_number": key}
    _, row = record_by_key(
        dataset=loaded.dataset, decision=d, key=key, params={"district": "越秀区"}
    )
    assert row is None
    with pytest.raises(QueryForbidden):
        record_by_key(dataset=loaded.dataset, decision=d, key=key, params={"fields": "religion"})


@pytest.mark.parametrize(
    "asked",
    [
        "44010019400101139x",
        " ４４０１００１９４００１０１１３９ｘ\u3000",
        "\ufeff44010019400101139X",
    ],
)
def test_key_lookup_normalises_an_id_number_as_sync_does(loaded, asked):
    stored = "44010019400101139X"
    store_replace_rows(loaded.dataset, [*ROWS, {**ROWS[0], "id_number": stored}])
    d = decision(loaded.dataset, loaded.consumer, CONSUMER)
    query, row = record_by_key(dataset=loaded.dataset, decision=d, key=asked)
    assert row["id_number"] == stored and query.filters == {"id_number": stored}


def test_key_lookup_normalises_a_credit_code_as_sync_does(world):
    from tests.factories import DatasetFactory, FieldFactory

    ds = DatasetFactory(provider=world.provider, key_field="uscc")
    FieldFactory(dataset=ds, name="uscc", data_type="credit_code")
    FieldFactory(dataset=ds, name="name", data_type="string")
    store_replace_rows(ds, [{"uscc": "91110000600037341L", "name": "某公司"}])
    d = decision(ds, world.provider, {"uscc": "none", "name": "none"}, owner=True)
    _, row = record_by_key(dataset=ds, decision=d, key="９１１１００００６０００３７３４１ｌ ")
    assert row == {"uscc": "91110000600037341L", "name": "某公司"}


def test_key_lookup_leaves_other_key_types_as_asked(world):
    from tests.factories import DatasetFactory, FieldFactory

    ds = DatasetFactory(provider=world.provider, key_field="code")
    FieldFactory(dataset=ds, name="code", data_type="string")
    store_replace_rows(ds, [{"code": "ab"}])
    d = decision(ds, world.provider, {"code": "none"}, owner=True)
    assert record_by_key(dataset=ds, decision=d, key="ab")[1] == {"code": "ab"}
    assert record_by_key(dataset=ds, decision=d, key="AB")[1] is None


def test_key_lookup_respects_row_filters(loaded):
    d = decision(loaded.dataset, loaded.consumer, CONSUMER, row_filters=[{"district": "越秀区"}])
    _, row = record_by_key(dataset=loaded.dataset, decision=d, key=ROWS[0]["id_number"])
    assert row is None


def test_key_lookup_keeps_to_the_rows_where_the_key_is_readable(loaded):
    rows = {"id_number": ({"district": "越秀区"},)}
    d = decision(loaded.dataset, loaded.consumer, CONSUMER, rows=rows)
    params = {"fields": "gender"}  # the key is used to find the row even when not returned
    outside = record_by_key(
        dataset=loaded.dataset, decision=d, key=ROWS[0]["id_number"], params=params
    )
    assert outside[1] is None
    inside = record_by_key(
        dataset=loaded.dataset, decision=d, key=ROWS[1]["id_number"], params=params
    )
    assert inside[1] == {"gender": ROWS[1]["gender"]}


def test_records_iter_streams_through_a_server_side_cursor(loaded):
    d = decision(loaded.dataset, loaded.consumer, CONSUMER)
    q = record_query_build(dataset=loaded.dataset, decision=d, params={"ordering": "-id_number"})
    with transaction.atomic():
        rows = list(records_iter(query=q, itersize=2))
    assert [r[0] for r in rows] == sorted((r["id_number"] for r in ROWS), reverse=True)
    assert rows[0][1] == make_masker("name")(ROWS[-1]["name"])


def _json_equivalent(rows) -> list:
    import orjson

    return orjson.loads(orjson.dumps(rows, default=str))


@pytest.mark.parametrize("masks", [CLEAR_ALL, CONSUMER], ids=["clear", "consumer"])
@pytest.mark.parametrize("ordering", ["", "-district", "gender,-id_number"])
def test_json_pages_equal_the_dict_pages(loaded, masks, ordering):
    import orjson

    d = decision(loaded.dataset, loaded.consumer, masks)
    params = {"ordering": ordering} if ordering else {}
    cursor, json_cursor = None, None
    while True:
        query = record_query_build(dataset=loaded.dataset, decision=d, params=params)
        rows, cursor = records_page(query=query, page_size=2, cursor=cursor)
        body, count, json_cursor = records_page_json(query=query, page_size=2, cursor=json_cursor)
        assert orjson.loads(body) == _json_equivalent(rows) and count == len(rows)
        assert json_cursor == cursor
        if cursor is None:
            break


def test_json_rows_keep_every_data_type_as_orjson_writes_it(world):
    import orjson

    from tests.factories import DatasetFactory, FieldFactory

    ds = DatasetFactory(provider=world.provider, key_field="code")
    types = {
        "code": "string",
        "amount": "decimal",
        "count": "integer",
        "flag": "boolean",
        "day": "date",
        "at": "datetime",
    }
    for name, data_type in types.items():
        FieldFactory(dataset=ds, name=name, data_type=data_type)
    rows = [
        {
            "code": "a",
            "amount": "12.50",
            "count": 3,
            "flag": True,
            "day": dt.date(2024, 2, 29),
            "at": dt.datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=dt.UTC),
        },
        {"code": "b", "amount": None, "count": None, "flag": None, "day": None, "at": None},
    ]
    store_replace_rows(ds, rows)
    ds = type(ds).objects.prefetch_related("fields").get(pk=ds.pk)
    d = decision(ds, world.provider, {n: "none" for n in types}, owner=True)
    query = record_query_build(dataset=ds, decision=d, params={})
    expected, _ = records_page(query=query, page_size=10)
    body, _, _ = records_page_json(query=query, page_size=10)
    assert orjson.loads(body) == _json_equivalent(expected)
    _, one = record_by_key(dataset=ds, decision=d, key="a")
    _, one_json = record_by_key_json(dataset=ds, decision=d, key="a")
    assert orjson.loads(one_json) == _json_equivalent(one)


def test_pages_ordered_by_row_position_walk_every_row_across_many_blocks(world):
    """With a field masked in Python (`hash`) and the key not readable in clear, pages are
    ordered by row position; with more than ten blocks of rows none may be skipped."""
    from tests.factories import DatasetFactory, FieldFactory

    ds = DatasetFactory(provider=world.provider, key_field="code")
    FieldFactory(dataset=ds, name="code")
    FieldFactory(dataset=ds, name="note")
    rows = [{"code": f"k{i:05d}", "note": "x" * 200} for i in range(3000)]  # ~90 blocks
    store_replace_rows(ds, rows)
    ds = type(ds).objects.prefetch_related("fields").get(pk=ds.pk)
    d = decision(ds, world.consumer, {"code": "hash", "note": "none"})
    query = record_query_build(dataset=ds, decision=d, params={}, hash_key=b"k")
    seen, cursor = 0, None
    while True:
        page, cursor = records_page(query=query, page_size=250, cursor=cursor)
        seen += len(page)
        if cursor is None:
            break
    assert seen == len(rows)
