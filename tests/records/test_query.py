"""The record query builder: projection, filters, ordering, keyset pages and SQL masking."""

from __future__ import annotations

import pytest

from apps.records.query import (
    QueryForbidden,
    QueryInvalid,
    encode_cursor,
    record_query_build,
)
from apps.records.reads import records_page
from govdata.masking import hash_key_for, make_masker
from tests.records.decisions import decision
from tests.records.rows import CLEAR_ALL, CONSUMER, ROWS


def _all(world, masks, params=None, page_size=1000, **kw):
    d = decision(world.dataset, world.consumer, masks, **kw)
    q = record_query_build(dataset=world.dataset, decision=d, params=params or {}, hash_key=b"k")
    return records_page(query=q, page_size=page_size)[0]


def test_sql_masks_match_the_python_maskers(loaded):
    rows = _all(loaded, CONSUMER)
    by_key = {r["id_number"]: r for r in rows}
    for source in ROWS:
        got = by_key[source["id_number"]]
        for name, rule in CONSUMER.items():
            assert got[name] == make_masker(rule)(source[name]), (name, source[name])


ADDRESSES = [
    "内蒙古自治区呼和浩特市",
    "广东省广州市从化县级市街口",
    "新疆维吾尔自治区某某州某某县",
    "某某州某某盟",
    "阿拉善盟阿拉善左旗",
    "北京市市辖区东城区",
    "无",
    "",
    "ab",
]


@pytest.mark.parametrize("rule", ["address", "name", "mobile", "id_card", "year_only"])
def test_sql_rules_match_python_on_awkward_values(db, rule):
    from django.db import connection
    from psycopg2 import sql

    from apps.records.sql_masking import masked_expression

    expr = masked_expression(rule, sql.Placeholder(), "string")
    with connection.cursor() as cur:
        for value in [*ADDRESSES, "1", "123456789012345678", "1990-01-01", "x1990"]:
            cur.execute(
                sql.SQL("SELECT {}").format(expr).as_string(cur.connection).replace("%s", "%(v)s"),
                {"v": value},
            )
            assert cur.fetchone()[0] == make_masker(rule)(value), (rule, value)


@pytest.mark.parametrize("rule", ["id_card", "bank_card", "redact"])
def test_other_sql_rules_match_python(loaded, rule):
    rows = _all(loaded, {"id_number": "none", "mobile": rule})
    expected = {r["id_number"]: make_masker(rule)(r["mobile"]) for r in ROWS}
    assert {r["id_number"]: r["mobile"] for r in rows} == expected


def test_hash_mask_is_hmac_with_the_consumers_key(loaded):
    d = decision(loaded.dataset, loaded.consumer, {"id_number": "none", "name": "hash"})
    key = hash_key_for("secret", "WJ")
    q = record_query_build(dataset=loaded.dataset, decision=d, params={}, hash_key=key)
    rows = records_page(query=q, page_size=10)[0]
    masker = make_masker("hash", hash_key=key)
    assert rows[0]["name"] == masker(ROWS[0]["name"])
    assert all(r["name"] not in {s["name"] for s in ROWS} for r in rows)


def test_only_readable_fields_are_selected_in_decision_order(loaded):
    rows = _all(loaded, {"gender": "none", "district": "none"})
    assert list(rows[0]) == ["gender", "district"]


def test_projection_keeps_the_asked_order(loaded):
    rows = _all(loaded, CONSUMER, {"fields": "district,name"})
    assert list(rows[0]) == ["district", "name"]


@pytest.mark.parametrize(
    "params",
    [
        {"fields": "religion"},
        {"religion": "x"},
        {"ordering": "religion"},
        {"name": "张三"},
        {"name__contains": "张"},
        {"ordering": "-mobile"},
        {"birth_date__gte": "1990-01-01"},
    ],
)
def test_unreadable_or_masked_fields_are_forbidden_without_the_value(loaded, params):
    with pytest.raises(QueryForbidden) as exc:
        _all(loaded, CONSUMER, params)
    assert "秘密" not in exc.value.message and "张" not in exc.value.message


@pytest.mark.parametrize(
    "params",
    [
        {"nope": "1"},
        {"fields": "nope"},
        {"ordering": "nope"},
        {"birth_date": "yesterday"},
        {"birth_date__contains": "19"},
        {"id_number__in": ",".join(["x"] * 1001)},
        {"ordering": "--district"},
        {"ordering": "-"},
        {"ordering": "district,-district"},
        {"fields": ","},
    ],
)
def test_malformed_queries_are_invalid(loaded, params):
    with pytest.raises(QueryInvalid):
        _all(loaded, CLEAR_ALL, params)


def test_filters_on_clear_fields(loaded):
    ids = lambda rows: sorted(r["id_number"][-1] for r in rows)  # noqa: E731
    assert ids(_all(loaded, CONSUMER, {"district": "天河区"})) == ["0", "3", "5"]
    assert ids(_all(loaded, CONSUMER, {"district__in": "越秀区,天河区", "gender": "女"})) == [
        "0",
        "4",
    ]
    assert ids(_all(loaded, CONSUMER, {"id_number__gte": ROWS[4]["id_number"]})) == ["4", "5"]
    assert ids(_all(loaded, CONSUMER, {"id_number__lte": ROWS[1]["id_number"]})) == ["0", "1"]
    assert ids(_all(loaded, CONSUMER, {"district__contains": "秀"})) == ["1", "4"]


def test_row_filters_of_the_grant_always_apply(loaded):
    rows = _all(loaded, CONSUMER, {"gender": "男"}, row_filters=[{"district__in": ["天河区"]}])
    assert sorted(r["id_number"][-1] for r in rows) == ["3", "5"]


def test_row_filter_on_an_unknown_field_matches_nothing(loaded):
    assert _all(loaded, CONSUMER, row_filters=[{"gone": "x"}]) == []


# mobile is readable on 天河区 rows only (a grant with that row filter); the rest everywhere.
MOBILE_IN_TIANHE = {"mobile": ({"district": "天河区"},)}


def _ids(rows) -> list[str]:
    return sorted(r["id_number"][-1] for r in rows)


def _mobiles(rows) -> dict[str, str | None]:
    return {r["id_number"][-1]: r["mobile"] for r in rows}


def test_a_field_readable_on_some_rows_is_null_on_the_others_and_no_row_is_lost(loaded):
    everywhere = {"fields": "id_number,gender,district"}
    assert _ids(_all(loaded, CONSUMER, everywhere, rows=MOBILE_IN_TIANHE)) == [
        "0", "1", "2", "3", "4", "5",
    ]  # fmt: skip
    with_mobile = _all(loaded, CONSUMER, {"fields": "id_number,mobile"}, rows=MOBILE_IN_TIANHE)
    mobiles = _mobiles(with_mobile)
    assert sorted(mobiles) == ["0", "1", "2", "3", "4", "5"]
    assert [k for k, v in sorted(mobiles.items()) if v is not None] == ["0", "3", "5"]
    # Every field returned when none is projected: the same rows, mobile NULL outside 天河区.
    assert _mobiles(_all(loaded, CONSUMER, rows=MOBILE_IN_TIANHE)) == mobiles


def test_filtering_or_ordering_on_a_row_restricted_field_keeps_to_its_rows(loaded):
    clear_mobile = {**CONSUMER, "mobile": "none"}
    filtered = {"fields": "id_number", "mobile__gte": "13800130000"}
    assert _ids(_all(loaded, clear_mobile, filtered, rows=MOBILE_IN_TIANHE)) == ["0", "3", "5"]
    ordered = {"fields": "id_number", "ordering": "-mobile"}
    assert _ids(_all(loaded, clear_mobile, ordered, rows=MOBILE_IN_TIANHE)) == ["0", "3", "5"]


def test_a_field_given_by_two_filtered_grants_is_read_on_the_rows_of_either(loaded):
    rows = {"mobile": ({"district": "天河区"}, {"gender": "女", "district": "越秀区"})}
    mobiles = _mobiles(_all(loaded, CONSUMER, {"fields": "id_number,mobile"}, rows=rows))
    assert [k for k, v in sorted(mobiles.items()) if v is not None] == ["0", "3", "4", "5"]


def test_rows_on_which_nothing_returned_is_readable_are_left_out(loaded):
    only_mobile = {"mobile": "mobile"}
    rows = _all(loaded, only_mobile, rows=MOBILE_IN_TIANHE)
    assert len(rows) == 3 and all(r["mobile"] for r in rows)  # no row of NULLs


def test_a_row_restricted_key_is_null_where_unreadable_and_never_the_tiebreak(loaded):
    rows = {"id_number": ({"district": "天河区"},)}
    assert len(_all(loaded, CONSUMER, {"fields": "gender,district"}, rows=rows)) == 6
    keys = _all(loaded, CONSUMER, {"fields": "id_number,district"}, rows=rows)
    assert sorted(r["district"] or "" for r in keys if r["id_number"] is None) == [
        "", "越秀区", "越秀区",
    ]  # fmt: skip
    q = record_query_build(
        dataset=loaded.dataset,
        decision=decision(loaded.dataset, loaded.consumer, CONSUMER, rows=rows),
        params={"fields": "id_number"},
    )
    assert q.order == [("__tid", False)]  # the cursor carries a row position, not a key


@pytest.mark.parametrize("ordering", ["district,-gender", "-district", "gender,-district", ""])
@pytest.mark.parametrize("masks", [CONSUMER, {"gender": "none", "district": "none"}])
def test_keyset_pages_walk_the_whole_ordered_result(loaded, ordering, masks):
    d = decision(loaded.dataset, loaded.consumer, masks)
    q = record_query_build(dataset=loaded.dataset, decision=d, params={"ordering": ordering})
    everything, _ = records_page(query=q, page_size=100)
    walked, cursor = [], None
    while True:
        page, cursor = records_page(query=q, page_size=2, cursor=cursor)
        walked.extend(page)
        if cursor is None:
            break
    assert walked == everything and len(walked) == len(ROWS)


def test_without_the_key_in_clear_the_cursor_holds_no_key(loaded):
    d = decision(loaded.dataset, loaded.consumer, {"gender": "none", "id_number": "id_card"})
    q = record_query_build(dataset=loaded.dataset, decision=d, params={})
    _, cursor = records_page(query=q, page_size=1)
    import base64

    payload = cursor.rpartition(".")[0]  # "<values>.<MAC>"
    decoded = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    assert ROWS[0]["id_number"] not in decoded and "440106" not in decoded


def test_bad_cursor_is_invalid(loaded):
    d = decision(loaded.dataset, loaded.consumer, CONSUMER)
    q = record_query_build(dataset=loaded.dataset, decision=d, params={})
    for cursor in ["!!!", "WzEsMl0", "bm90anNvbg"]:
        with pytest.raises(QueryInvalid):
            records_page(query=q, page_size=1, cursor=cursor)


def test_a_signed_cursor_with_a_malformed_row_position_is_still_invalid(loaded):
    d = decision(loaded.dataset, loaded.consumer, {"gender": "none"})
    q = record_query_build(dataset=loaded.dataset, decision=d, params={})
    with pytest.raises(QueryInvalid):
        records_page(query=q, page_size=1, cursor=encode_cursor(q, ["1); DROP"]))


def test_a_read_relies_on_the_grants_of_the_fields_it_returns_filters_or_orders_by(loaded):
    from apps.sharing.policy import AccessDecision, FieldAccess

    grants = {"id_number": (1,), "name": (2,), "mobile": (3,), "gender": (), "district": ()}
    masks = {"id_number": "id_card", "name": "name", "mobile": "mobile", "gender": "none",
             "district": "none"}  # fmt: skip
    d = AccessDecision(
        dataset_id=loaded.dataset.pk,
        department_id=loaded.consumer.pk,
        is_owner=False,
        fields={n: FieldAccess(name=n, mask=m, grant_ids=grants[n]) for n, m in masks.items()},
    )

    def relied(params):
        q = record_query_build(dataset=loaded.dataset, decision=d, params=params)
        return q.grants_relied_on(d)

    assert relied({"fields": "gender,district"}) == ()  # the key is masked: no key tiebreak
    assert relied({"fields": "district,name"}) == (2,)
    assert relied({"fields": "district", "ordering": "gender"}) == ()
    assert relied({}) == (1, 2, 3)
