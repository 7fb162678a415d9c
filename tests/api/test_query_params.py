"""The query string of record reads: a parameter given twice, a malformed ordering and a
malformed filter value are 400 problems naming the parameter, never one value silently winning
nor a database error; ID numbers in filters are normalised as the key lookup normalises them."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.audit.models import AuditEvent
from tests.api.conftest import PURPOSE, ROWS

BASE = "/api/v1/datasets/GA-RK-001"
KEY = ROWS[0]["id_number"]


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("records/?fields=address&fields=district", "fields"),
        ("records/?fields=district&fields=name", "fields"),
        ("records/?ordering=district&ordering=-gender", "ordering"),
        ("records/?cursor=a&cursor=b", "cursor"),
        ("records/?page_size=1&page_size=2", "page_size"),
        ("records/?district=天河区&district=越秀区", "district"),
        ("records/?district__in=天河区&district__in=越秀区", "district__in"),
        ("export/?format=csv&format=ndjson", "format"),
        ("export/?format=csv&fields=name&fields=district", "fields"),
        ("export/?format=csv&ordering=district&ordering=gender", "ordering"),
        (f"records/{KEY}/?fields=address&fields=district", "fields"),
    ],
)
def test_a_parameter_given_twice_is_a_400_naming_it(api_world, path, param):
    before = AuditEvent.objects.count()
    response = api_world.clients["granted"].get(f"{BASE}/{path}", **PURPOSE)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert f"“{param}”" in response.json()["detail"]
    # A malformed query reads nothing, and is recorded as a refused read (probing shows).
    [event] = AuditEvent.objects.order_by("-seq")[: AuditEvent.objects.count() - before]
    assert event.outcome == "denied" and f"“{param}”" in event.reason
    assert event.request_id == response["X-Request-Id"] and event.row_count is None


def test_a_read_without_a_purpose_is_a_400_and_recorded_as_refused(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/records/?district=天河区")
    assert response.status_code == 400 and "X-Purpose" in response.json()["detail"]
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.outcome, event.purpose, event.dataset_code) == ("denied", "", "GA-RK-001")
    assert "X-Purpose" in event.reason and event.filters == {"district": "天河区"}


def test_different_filters_still_combine(api_world):
    response = api_world.clients["owner"].get(
        f"{BASE}/records/?birth_date__gte=1981-01-01&birth_date__lte=1983-12-31&district=天河区",
        **PURPOSE,
    )
    assert response.status_code == 200
    assert [r["id_number"] for r in response.json()["results"]] == [ROWS[3]["id_number"]]


@pytest.mark.parametrize(
    "ordering", ["--district", "-", "district,--gender", "---gender", "district,-district"]
)
@pytest.mark.parametrize("path", ["records/?", "export/?format=csv&"])
def test_malformed_ordering_is_a_400_naming_the_parameter(api_world, path, ordering):
    response = api_world.clients["granted"].get(f"{BASE}/{path}ordering={ordering}", **PURPOSE)
    assert response.status_code == 400
    assert "“ordering”" in response.json()["detail"]


def test_one_leading_minus_still_orders_descending(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/records/?ordering=-id_number", **PURPOSE)
    ids = [r["id_number"] for r in response.json()["results"]]
    assert ids == sorted((r["id_number"] for r in ROWS), reverse=True)


def test_fields_naming_no_field_is_a_400(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/records/?fields=,", **PURPOSE)
    assert response.status_code == 400
    assert "“fields”" in response.json()["detail"]


PENALTIES = "/api/v1/datasets/XZ-CF-001"
PENALTY_FIELDS = [
    ("case_no", "案件编号", "string", "unconditional", "none"),
    ("fine_amount", "罚款金额", "decimal", "unconditional", "none"),
    ("count", "次数", "integer", "unconditional", "none"),
    ("decided_on", "决定日期", "date", "unconditional", "none"),
    ("decided_at", "决定时间", "datetime", "unconditional", "none"),
]
PENALTY_ROWS = [
    {
        "case_no": f"CF-{i}",
        "fine_amount": amount,
        "count": i,
        "decided_on": dt.date(2025, 1, 10 + i),
        "decided_at": dt.datetime(2025, 1, 10 + i, 2, 0, tzinfo=dt.UTC),
    }
    for i, amount in enumerate(["500.00", "10000", "0.5", "25000.75"])
]


@pytest.fixture
def penalties(api_world):
    from apps.records.store import store_ensure_table, store_replace_rows
    from tests.factories import dataset_with_fields

    dataset, _fields = dataset_with_fields(
        provider=api_world.base.provider,
        code="XZ-CF-001",
        name="行政处罚信息",
        key_field="case_no",
        legal_basis="《行政处罚法》",
        specs=PENALTY_FIELDS,
    )
    store_ensure_table(dataset)
    store_replace_rows(dataset, PENALTY_ROWS)
    return dataset


MALFORMED = [
    ("fine_amount__gte", "1e999999999"),
    ("fine_amount__lte", "NaN"),
    ("fine_amount__lte", "sNaN"),
    ("fine_amount__gte", "-Infinity"),
    ("fine_amount", "１００００"),
    ("fine_amount", "10_000"),
    ("fine_amount__gte", " 100"),
    ("fine_amount__in", "500.00,nan"),
    ("count", "99999999999999999999"),
    ("count__gte", "1 "),
    ("count", "１"),
    ("decided_on", "20250113"),
    ("decided_on__gte", "2025-W03-1"),
    ("decided_at__gte", "2025-01-13 10:00:00+08:00"),
    ("decided_at__lte", "20250113T100000+0800"),
]


@pytest.mark.parametrize(("param", "value"), MALFORMED)
@pytest.mark.parametrize("path", ["records/?", "export/?format=csv&", "export/?format=ndjson&"])
def test_a_malformed_filter_value_is_a_400_naming_parameter_and_field_before_any_byte(
    api_world, penalties, path, param, value
):
    from urllib.parse import quote

    response = api_world.clients["granted"].get(
        f"{PENALTIES}/{path}{param}={quote(value)}", **PURPOSE
    )
    assert response.status_code == 400 and not response.streaming
    assert response["Content-Type"] == "application/problem+json"
    detail = response.json()["detail"]
    assert param in detail and param.partition("__")[0] in detail
    assert value.strip() not in detail
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.outcome == "denied" and event.row_count is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fine_amount__gte=1e4", ["CF-1", "CF-3"]),
        ("fine_amount__lte=-1.5E%2B3", []),
        ("fine_amount__in=0.50,500", ["CF-0", "CF-2"]),
        ("count__gte=%2B2", ["CF-2", "CF-3"]),
        ("decided_on__lte=2025-01-11", ["CF-0", "CF-1"]),
        ("decided_at__gte=2025-01-12T10:00:00%2B08:00", ["CF-2", "CF-3"]),
        ("decided_at__gte=2025-01-12T02:00Z", ["CF-2", "CF-3"]),
        ("decided_at__lte=2025-01-11T10:00:00", ["CF-0", "CF-1"]),  # no offset: Asia/Shanghai
    ],
)
def test_well_formed_filter_values_select_their_rows(api_world, penalties, query, expected):
    response = api_world.clients["granted"].get(f"{PENALTIES}/records/?{query}", **PURPOSE)
    assert response.status_code == 200
    assert sorted(r["case_no"] for r in response.json()["results"]) == expected


X_KEY = "44010019400101139X"  # a resident ID number whose check digit is X


@pytest.fixture
def x_record(api_world):
    from apps.records.store import store_replace_rows

    store_replace_rows(api_world.base.dataset, [*ROWS, {**ROWS[1], "id_number": X_KEY}])


@pytest.mark.parametrize(
    "query",
    [
        "id_number=44010019400101139x",
        "id_number=４４０１００１９４００１０１１３９ｘ",
        "id_number=%2044010019400101139x%E3%80%80",
        "id_number__in=44010019400101139x,nope",
        "id_number__contains=101139x",
        "id_number__gte=44010019400101139x&id_number__lte=44010019400101139x",
    ],
)
@pytest.mark.parametrize("path", ["records/?", "export/?format=ndjson&"])
def test_id_number_filters_find_what_the_key_lookup_finds(api_world, x_record, path, query):
    client = api_world.clients["granted"]
    response = client.get(f"{BASE}/{path}{query}", **PURPOSE)
    assert response.status_code == 200
    if response.streaming:
        import orjson

        rows = [orjson.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    else:
        rows = response.json()["results"]
    assert [r["id_number"] for r in rows] == [X_KEY]
    lookup = client.get(f"{BASE}/records/44010019400101139x/", **PURPOSE)
    assert lookup.json()["id_number"] == X_KEY


@pytest.mark.parametrize("size", [" 10", "1_0", "１０", "+10", "10.0"])
def test_page_size_takes_ascii_digits_only(api_world, size):
    response = api_world.clients["granted"].get(
        "/api/v1/datasets/GA-RK-001/records/", {"page_size": size}, **PURPOSE
    )
    assert response.status_code == 400
    assert "page_size" in response.json()["detail"]
