"""Record reads: pages, export formats, audit before data, constant queries."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from tests.api.conftest import PURPOSE, ROWS

BASE = "/api/v1/datasets/GA-RK-001"


def test_cursor_pages_walk_all_records(api_world):
    client = api_world.clients["granted"]
    url, seen = f"{BASE}/records/?page_size=2&ordering=-district", []
    while url:
        body = client.get(url, **PURPOSE).json()
        seen.extend(r["id_number"] for r in body["results"])
        url = body["next"]
    assert sorted(seen) == sorted(r["id_number"] for r in ROWS)


@pytest.mark.parametrize("size", ["0", "1001", "x"])
def test_page_size_out_of_range_is_400(api_world, size):
    response = api_world.clients["owner"].get(f"{BASE}/records/?page_size={size}", **PURPOSE)
    assert response.status_code == 400


def test_csv_export_has_bom_header_and_rows(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/export/?format=csv", **PURPOSE)
    body = b"".join(response.streaming_content)
    assert response["Content-Type"].startswith("text/csv")
    assert body.startswith(b"\xef\xbb\xbfid_number,name,gender,birth_date,mobile,district\n")
    assert len(body.decode("utf-8-sig").strip().splitlines()) == len(ROWS) + 1


@pytest.mark.parametrize("masking", ["name", "hash"], ids=["copy", "python"])
def test_every_csv_export_line_ends_with_lf(api_world, masking):
    # `hash` masking takes the Python path (csv module) instead of PostgreSQL's COPY.
    field = api_world.base.fields["name"]
    field.masking = field.published_masking = masking
    field.save(update_fields=["masking", "published_masking"])
    response = api_world.clients["granted"].get(f"{BASE}/export/?format=csv", **PURPOSE)
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf") and b"\r" not in body
    assert body.endswith(b"\n") and body.count(b"\n") == len(ROWS) + 1


def test_ndjson_export_lines_are_json(api_world):
    import orjson

    response = api_world.clients["granted"].get(
        f"{BASE}/export/?format=ndjson&district=天河区", **PURPOSE
    )
    lines = b"".join(response.streaming_content).splitlines()
    rows = [orjson.loads(line) for line in lines]
    assert len(rows) == 3 and all(r["district"] == "天河区" for r in rows)
    assert rows[0]["birth_date"] == 1980 and rows[0]["name"] == "张*"


def test_every_read_writes_an_event_with_purpose(api_world):
    api_world.clients["granted"].get(f"{BASE}/records/?district=天河区", **PURPOSE)
    event = AuditEvent.objects.filter(action="list").latest("pk")
    assert event.purpose == PURPOSE["HTTP_X_PURPOSE"] and event.case_id == "CASE-1"
    assert event.outcome == "allowed" and event.row_count == 3
    assert event.fields["name"] == "name" and event.consumer_code == "WJ"


def test_no_audit_no_data(api_world, monkeypatch):
    import apps.audit.services as audit

    def broken(**kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(audit, "audit_record_access", broken)
    client = api_world.clients["granted"]
    client.raise_request_exception = False
    for path in [f"{BASE}/records/", f"{BASE}/export/?format=csv"]:
        response = client.get(path, **PURPOSE)
        assert response.status_code == 500
        assert ROWS[0]["id_number"] not in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "records/?page_size=1",
        "records/?page_size=1000",
        f"records/{ROWS[0]['id_number']}/",
        f"records/{ROWS[0]['id_number']}/?fields=name,district",
    ],
)
def test_application_read_takes_three_queries(api_world, django_assert_num_queries, path):
    # token + dataset + fields + live grants in one; the rows; the audit event.
    client = api_world.clients["granted"]
    client.get(f"{BASE}/{path}", **PURPOSE)  # warm caches
    with django_assert_num_queries(3):
        response = client.get(f"{BASE}/{path}", **PURPOSE)
    assert response.status_code == 200


def test_revoked_grant_counts_on_the_next_read(api_world):
    from apps.sharing.models import Grant

    client = api_world.clients["granted"]
    assert "name" in client.get(f"{BASE}/records/", **PURPOSE).json()["results"][0]
    Grant.objects.filter(consumer=api_world.base.consumer).update(status=Grant.Status.REVOKED)
    assert "name" not in client.get(f"{BASE}/records/", **PURPOSE).json()["results"][0]


def test_deleted_token_is_refused_on_the_next_read(api_world):
    from oauth2_provider.models import AccessToken

    client = api_world.clients["granted"]
    assert client.get(f"{BASE}/records/", **PURPOSE).status_code == 200
    AccessToken.objects.filter(application__agency__department=api_world.base.consumer).delete()
    assert client.get(f"{BASE}/records/", **PURPOSE).status_code == 401


def test_client_credentials_token_flow(api_world, client):
    from apps.api.services import application_create

    agency, secret = application_create(department=api_world.base.consumer, name="flow")
    assert agency.application.client_secret != secret  # stored hashed
    response = client.post(
        "/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": agency.application.client_id,
            "client_secret": secret,
            "scope": "read",
        },
    )
    assert response.status_code == 200, response.content
    token = response.json()["access_token"]
    assert response.json()["expires_in"] > 0
    ok = client.get("/api/v1/departments/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert ok.status_code == 200
    bad = client.get("/api/v1/departments/", HTTP_AUTHORIZATION="Bearer nope")
    assert bad.status_code == 401


def test_expired_token_and_inactive_application_are_401(api_world):
    import datetime as dt

    from oauth2_provider.models import AccessToken

    from apps.api.models import AgencyApplication
    from apps.common import clock

    client = api_world.clients["granted"]
    token = AccessToken.objects.get(token__startswith="tok-WJ")
    token.expires = clock.now() - dt.timedelta(seconds=1)
    token.save()
    assert client.get("/api/v1/departments/").status_code == 401
    token.expires = clock.now() + dt.timedelta(hours=1)
    token.save()
    assert client.get("/api/v1/departments/").status_code == 200
    AgencyApplication.objects.filter(application=token.application).update(is_active=False)
    response = client.get("/api/v1/departments/")
    assert response.status_code == 401 and "Bearer" in response["WWW-Authenticate"]


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_hash_masked_exports_go_through_python_and_hide_values(api_world, fmt):
    import re

    field = api_world.base.fields["name"]
    field.masking = field.published_masking = "hash"
    field.save(update_fields=["masking", "published_masking"])
    response = api_world.clients["granted"].get(f"{BASE}/export/?format={fmt}", **PURPOSE)
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert len(re.findall(r"\b[0-9a-f]{64}\b", body)) == len(ROWS)
    for row in ROWS:
        if row["name"]:
            assert row["name"] not in body


def test_officer_reads_records_from_the_browser(api_world):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(api_world.base.consumer_officer)
    body = client.get(f"{BASE}/records/?fields=name", **PURPOSE).json()
    assert body["results"][0] == {"name": "张*"}
    event = AuditEvent.objects.filter(action="list").latest("pk")
    assert event.username == api_world.base.consumer_officer.username


@pytest.mark.django_db(transaction=True)
def test_lookup_outside_a_transaction_reads_and_audits_in_one_round_trip(
    api_world, django_assert_num_queries
):
    # As in production (autocommit): the token and policy; then the record and its event.
    client, key = api_world.clients["granted"], ROWS[0]["id_number"]
    client.get(f"{BASE}/records/{key}/", **PURPOSE)  # warm caches
    with django_assert_num_queries(2):
        found = client.get(f"{BASE}/records/{key}/", **PURPOSE)
    assert found.status_code == 200 and found.json()["id_number"] == key
    assert found.json()["name"] == ROWS[0]["name"][0] + "*" * (len(ROWS[0]["name"]) - 1)
    missing = client.get(f"{BASE}/records/110101199001011237/", **PURPOSE)
    assert missing.status_code == 404
    events = list(AuditEvent.objects.filter(action="lookup").order_by("seq"))
    assert [e.row_count for e in events[-2:]] == [1, 0]
    assert events[-1].filters == {"id_number": "110101199001011237"}
    assert all(e.duration_ms is not None and e.duration_ms >= 0 for e in events)


def test_lookup_of_a_field_masked_in_python_returns_its_hash_and_is_audited(api_world):
    import re

    field = api_world.base.fields["name"]
    field.masking = field.published_masking = "hash"
    field.save(update_fields=["masking", "published_masking"])
    row = next(r for r in ROWS if r["name"])
    response = api_world.clients["granted"].get(f"{BASE}/records/{row['id_number']}/", **PURPOSE)
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{64}", response.json()["name"])
    assert row["name"] not in response.content.decode()
    event = AuditEvent.objects.filter(action="lookup").latest("seq")
    assert event.row_count == 1 and event.fields["name"] == "hash"


def test_a_second_grant_with_a_row_filter_narrows_only_the_fields_it_gives(api_world):
    """A department holding a grant on every row gets a second, narrower one (a row filter):
    what it read before stays readable; the second grant's fields are read on its rows only."""
    import datetime as dt

    from apps.common import clock
    from apps.sharing.services import request_approve
    from apps.sharing.submission import request_submit

    world = api_world.base
    second = request_submit(
        consumer=world.consumer,
        dataset=world.dataset,
        fields=["name", "address"],
        purpose="疫情防控",
        legal_basis="《传染病防治法》",
        valid_until=clock.today() + dt.timedelta(days=30),
        by=world.consumer_officer,
    )
    request_approve(request=second, by=world.provider_officer, row_filter={"district": "天河区"})
    client = api_world.clients["granted"]
    url = f"{BASE}/records/"
    open_fields = client.get(url, {"fields": "gender,district"}, **PURPOSE).json()["results"]
    assert len(open_fields) == len(ROWS)
    default = client.get(url, **PURPOSE).json()["results"]  # every readable field, address too
    assert len(default) == len(ROWS)
    assert {r["id_number"] for r in default if r["address"] is not None} == {
        r["id_number"] for r in ROWS if r["district"] == "天河区" and r["address"]
    }
    outside = next(r for r in ROWS if r["district"] != "天河区")
    lookup = client.get(f"{url}{outside['id_number']}/", **PURPOSE)
    assert lookup.status_code == 200 and lookup.json()["address"] is None


def _next_cursor(client, url: str) -> str:
    from urllib.parse import parse_qs, urlsplit

    body = client.get(url, **PURPOSE).json()
    return parse_qs(urlsplit(body["next"]).query)["cursor"][0]


@pytest.mark.parametrize(
    ("role", "query"),
    [
        ("granted", "district=越秀区&ordering=gender"),  # another filter
        ("granted", "district=天河区&ordering=-gender"),  # the reverse ordering
        ("granted", "district=天河区"),  # the ordering dropped
        ("owner", "district=天河区&ordering=gender"),  # another department
    ],
)
def test_a_cursor_from_another_query_is_a_400_recorded_as_refused(api_world, role, query):
    first = "district=天河区&ordering=gender&page_size=1"
    cursor = _next_cursor(api_world.clients["granted"], f"{BASE}/records/?{first}")
    response = api_world.clients[role].get(
        f"{BASE}/records/?{query}&page_size=1&cursor={cursor}", **PURPOSE
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "cursor" in response.json()["detail"] and "next" in response.json()["detail"]
    event = AuditEvent.objects.order_by("-seq").first()
    assert event.outcome == "denied" and event.row_count is None


def test_a_cursor_from_another_dataset_is_a_400(api_world):
    from apps.records.store import store_ensure_table, store_replace_rows
    from tests.conftest import build_population_dataset

    other, _fields = build_population_dataset(api_world.base.provider, code="GA-RK-002")
    store_ensure_table(other)
    store_replace_rows(other, ROWS)
    client = api_world.clients["owner"]
    cursor = _next_cursor(client, "/api/v1/datasets/GA-RK-002/records/?page_size=1")
    response = client.get(f"{BASE}/records/?page_size=1&cursor={cursor}", **PURPOSE)
    assert response.status_code == 400 and "cursor" in response.json()["detail"]


def test_a_page_after_a_cursor_takes_three_queries_too(api_world, django_assert_num_queries):
    client = api_world.clients["granted"]
    url = f"{BASE}/records/?page_size=2&ordering=-district"
    cursor = _next_cursor(client, url)
    client.get(f"{url}&cursor={cursor}", **PURPOSE)  # warm caches
    with django_assert_num_queries(3):
        response = client.get(f"{url}&cursor={cursor}", **PURPOSE)
    assert response.status_code == 200 and len(response.json()["results"]) == 2


# Field names a provider may choose that are (or were) names the record queries use.
ALIAS_FIELDS = [
    ("code", "编号", "string", "unconditional", "none"),
    ("v", "值", "integer", "unconditional", "none"),
    ("t", "类型", "string", "unconditional", "none"),
    ("case", "案由", "string", "unconditional", "none"),
    ("json_build_object", "金额", "decimal", "unconditional", "none"),
    ("label", "名称", "string", "unconditional", "name"),  # masked: a CASE named "case"
]
ALIAS_ROWS = [
    {"code": f"A{i}", "v": 10 - i, "t": f"t{i % 3}", "case": f"c{(i * 2) % 5}",
     "json_build_object": f"{(i * 3) % 5}.25", "label": f"名称{i}"}
    for i in range(5)
]  # fmt: skip


@pytest.mark.parametrize("ordering", ["v", "-t,code", "case", "-json_build_object"])
def test_a_dataset_with_fields_named_like_sql_aliases_reads_pages_lookups_and_exports(
    api_world, ordering
):
    import orjson

    from apps.records.store import store_ensure_table, store_replace_rows
    from tests.factories import dataset_with_fields

    dataset, _fields = dataset_with_fields(
        provider=api_world.base.provider,
        code="ALIAS-001",
        name="别名",
        key_field="code",
        legal_basis="《政务数据共享条例》",
        specs=ALIAS_FIELDS,
    )
    store_ensure_table(dataset)
    store_replace_rows(dataset, ALIAS_ROWS)
    client, base = api_world.clients["no_grant"], "/api/v1/datasets/ALIAS-001"
    url, pages = f"{base}/records/?page_size=2&ordering={ordering}", []
    while url:
        response = client.get(url, **PURPOSE)
        assert response.status_code == 200
        pages.extend(response.json()["results"])
        url = response.json()["next"]
    keys = [(k.lstrip("-"), k.startswith("-")) for k in ordering.split(",")]
    expected = list(ALIAS_ROWS)
    for name, desc in reversed(keys):
        expected.sort(key=lambda r, n=name: r[n], reverse=desc)
    assert [r["code"] for r in pages] == [r["code"] for r in expected]
    assert pages[0]["v"] == expected[0]["v"] and pages[0]["label"].endswith("*")
    lookup = client.get(f"{base}/records/A3/", **PURPOSE)
    assert lookup.status_code == 200 and lookup.json()["v"] == 7
    ndjson = client.get(f"{base}/export/?format=ndjson&ordering={ordering}", **PURPOSE)
    lines = [orjson.loads(x) for x in b"".join(ndjson.streaming_content).splitlines()]
    assert lines == pages
    csv = client.get(f"{base}/export/?format=csv&ordering={ordering}", **PURPOSE)
    rows = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == [r["code"] for r in expected]
