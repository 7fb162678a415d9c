"""Cursors are bound to the query they continue (dataset, reading department, projection,
ordering, filters) by a keyed MAC: used with any other query, or altered, a cursor is invalid.
Their values are checked as filter values are, and every stored value round-trips."""

from __future__ import annotations

import base64
import datetime as dt

import orjson
import pytest

from apps.records.query import QueryInvalid, encode_cursor, record_query_build
from apps.records.reads import records_page, records_page_json
from apps.records.store import store_replace_rows
from tests.records.decisions import decision
from tests.records.rows import CONSUMER, ROWS


def _query(world, params=None, *, dataset=None, department=None, masks=CONSUMER):
    dataset = dataset or world.dataset
    d = decision(dataset, department or world.consumer, masks)
    return record_query_build(dataset=dataset, decision=d, params=params or {}, hash_key=b"k")


def _first_cursor(query) -> str:
    _, cursor = records_page(query=query, page_size=1)
    assert cursor is not None
    return cursor


def _invalid(query, cursor: str) -> None:
    for page in (records_page, records_page_json):
        with pytest.raises(QueryInvalid) as exc:
            page(query=query, page_size=1, cursor=cursor)
        assert exc.value.field_name == "cursor" and "next" in exc.value.message


def test_a_cursor_continues_the_query_it_came_from(loaded):
    query = _query(loaded, {"district__in": "天河区,越秀区", "ordering": "-district"})
    cursor = _first_cursor(query)
    again = _query(loaded, {"district__in": "天河区,越秀区", "ordering": "-district"})
    rows, _ = records_page(query=again, page_size=10, cursor=cursor)
    assert len(rows) == 4


@pytest.mark.parametrize(
    "other",
    [
        {"district": "越秀区", "ordering": "district"},  # another filter value
        {"district__in": "越秀区", "ordering": "district"},  # another lookup
        {"ordering": "district"},  # the filter dropped
        {"district": "天河区", "ordering": "-district"},  # the reverse ordering
        {"district": "天河区"},  # no ordering
        {"district": "天河区", "ordering": "district", "gender": "男"},  # a filter added
    ],
)
def test_a_cursor_used_with_another_query_is_invalid(loaded, other):
    cursor = _first_cursor(_query(loaded, {"district": "天河区", "ordering": "district"}))
    _invalid(_query(loaded, other), cursor)


def test_a_cursor_continues_at_its_position_whatever_the_projection(loaded):
    # A position in the order does not depend on the columns returned; the default projection
    # follows the grants, which may change during a walk.
    params = {"district": "天河区", "ordering": "-id_number"}
    cursor = _first_cursor(_query(loaded, params))
    projected = _query(loaded, {**params, "fields": "id_number"})
    rows, _ = records_page(query=projected, page_size=10, cursor=cursor)
    tianhe = sorted((r["id_number"] for r in ROWS if r["district"] == "天河区"), reverse=True)
    assert [r["id_number"] for r in rows] == tianhe[1:]


def test_a_cursor_used_by_another_department_is_invalid(loaded):
    cursor = _first_cursor(_query(loaded))
    _invalid(_query(loaded, department=loaded.outsider), cursor)


def test_a_cursor_used_on_another_dataset_is_invalid(loaded):
    from tests.conftest import build_population_dataset

    other, _fields = build_population_dataset(loaded.provider, code="GA-RK-002")
    store_replace_rows(other, ROWS)
    cursor = _first_cursor(_query(loaded))
    _invalid(_query(loaded, dataset=other), cursor)


def test_an_altered_or_unsigned_cursor_is_invalid(loaded):
    query = _query(loaded)
    cursor = _first_cursor(query)
    payload, _dot, mac = cursor.rpartition(".")
    values = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    values[-1] = ROWS[-2]["id_number"]  # skip ahead, keeping the MAC
    forged = base64.urlsafe_b64encode(orjson.dumps(values)).decode().rstrip("=")
    bad_ones = [f"{forged}.{mac}", payload, f"{payload}.", f"{payload}.{mac[:-1]}", "."]
    bad_ones += [f"{payload}\ud800.{mac}", f"{payload}.{mac}é", f"１{payload}.{mac}"]
    for bad in bad_ones:
        _invalid(query, bad)


def test_a_cursor_from_another_secret_key_is_invalid(loaded, settings):
    query = _query(loaded)
    cursor = _first_cursor(query)
    settings.SECRET_KEY = "another-" + "k" * 50
    _invalid(query, cursor)


def test_a_cursor_stays_short(loaded):
    query = _query(loaded, {"ordering": "district"})
    cursor = _first_cursor(query)
    payload = cursor.rpartition(".")[0]
    assert len(cursor) - len(payload) <= 17  # the MAC adds 16 characters and a dot


def test_a_page_with_a_cursor_is_still_one_query(loaded, django_assert_num_queries):
    ds = type(loaded.dataset).objects.prefetch_related("fields").get(pk=loaded.dataset.pk)
    query = _query(loaded, {"ordering": "-district"}, dataset=ds)
    _, _, cursor = records_page_json(query=query, page_size=2)
    with django_assert_num_queries(1):
        _, _, cursor = records_page_json(query=query, page_size=2, cursor=cursor)
    with django_assert_num_queries(1):
        records_page(query=query, page_size=2, cursor=cursor)


TYPES = {
    "code": "string",
    "amount": "decimal",
    "count": "integer",
    "flag": "boolean",
    "day": "date",
    "at": "datetime",
    "idno": "id_card",
}
TYPED_ROWS = [
    {
        "code": f"k{i}",
        "amount": amount,
        "count": count,
        "flag": i % 2 == 0,
        "day": dt.date(2024, 2, 29) + dt.timedelta(days=i % 3),
        "at": dt.datetime(2024, 1, 2, 3, 4, 5, i * 100, tzinfo=dt.UTC),
        "idno": f"44010619900101{i:04d}",
    }
    for i, (amount, count) in enumerate(
        [
            ("0.0000001", 2**63 - 1),  # str(Decimal) writes 1E-7
            ("-12.50", -(2**63)),
            ("123456789012345678901234567890.123456789", 0),
            ("0", 7),
            (None, None),
            ("1E+40", -1),
        ]
    )
]


@pytest.mark.parametrize("ordering", ["amount", "-amount", "count", "-count", "flag,-day",
                                      "-at", "idno", "day,amount"])  # fmt: skip
def test_every_stored_value_round_trips_through_a_cursor(world, ordering):
    from tests.factories import DatasetFactory, FieldFactory

    ds = DatasetFactory(provider=world.provider, key_field="code")
    for name, data_type in TYPES.items():
        FieldFactory(dataset=ds, name=name, data_type=data_type)
    store_replace_rows(ds, TYPED_ROWS)
    ds = type(ds).objects.prefetch_related("fields").get(pk=ds.pk)
    d = decision(ds, world.provider, dict.fromkeys(TYPES, "none"), owner=True)
    query = record_query_build(dataset=ds, decision=d, params={"ordering": ordering})
    everything, _ = records_page(query=query, page_size=100)
    walked, cursor = [], None
    while True:
        body, _count, cursor = records_page_json(query=query, page_size=1, cursor=cursor)
        walked.extend(orjson.loads(body))
        if cursor is None:
            break
    assert [r["code"] for r in walked] == [r["code"] for r in everything]
    assert len(walked) == len(TYPED_ROWS)


def test_encode_cursor_binds_to_the_query(loaded):
    query = _query(loaded)
    assert encode_cursor(query, ["x"]) != encode_cursor(_query(loaded, {"gender": "男"}), ["x"])
