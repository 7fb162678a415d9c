"""Every endpoint for every kind of caller, generated from one table (as NetBox does)."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.common import clock
from tests.api.conftest import PURPOSE, ROLES, ROWS, app_client

KEY = ROWS[0]["id_number"]
CODE = "GA-RK-001"
ALL = ["id_number", "name", "gender", "birth_date", "mobile", "address", "district", "religion"]
OPEN = ["gender", "district"]
GRANTED_FIELDS = ["id_number", "name", "gender", "birth_date", "mobile", "district"]

# endpoint -> (method, path, expected status per role)
ENDPOINTS = {
    "departments": ("get", "/api/v1/departments/", [200, 200, 200, 200, 200, 401]),
    "catalog": ("get", "/api/v1/catalog/", [200, 200, 200, 200, 200, 401]),
    "catalog_detail": ("get", f"/api/v1/catalog/{CODE}/", [200, 200, 200, 200, 200, 401]),
    "records": ("get", f"/api/v1/datasets/{CODE}/records/", [200, 200, 200, 200, 403, 401]),
    "record": ("get", f"/api/v1/datasets/{CODE}/records/{KEY}/", [200, 200, 403, 403, 403, 401]),
    "export": ("get", f"/api/v1/datasets/{CODE}/export/?format=ndjson", [200] * 4 + [403, 401]),
    "requests": ("get", "/api/v1/requests/", [200, 200, 200, 200, 403, 401]),
    "request_detail": ("get", "/api/v1/requests/{id}/", [200, 200, 404, 404, 403, 401]),
}
CASES = [
    (name, role, expected[i])
    for name, (_m, _p, expected) in ENDPOINTS.items()
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("endpoint", "role", "status"), CASES)
def test_endpoint_status_by_role(api_world, later, endpoint, role, status):
    method, path, _expected = ENDPOINTS[endpoint]
    path = path.format(id=api_world.request_id)
    response = getattr(api_world.clients[role], method)(path, **PURPOSE)
    assert response.status_code == status, response.content[:300]
    assert response["X-Request-Id"]
    if status >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == status and response.json()["request_id"]


# The same endpoints for an application of the granted department by the scopes of its token:
# `read` reads records, `requests` submits; both find datasets and follow requests.
SCOPES = ["read requests", "read", "requests", ""]
SCOPE_TABLE = {
    "departments": [200, 200, 200, 403],
    "catalog": [200, 200, 200, 403],
    "catalog_detail": [200, 200, 200, 403],
    "records": [200, 200, 403, 403],
    "record": [200, 200, 403, 403],
    "export": [200, 200, 403, 403],
    "requests": [200, 200, 200, 403],
    "request_detail": [200, 200, 200, 403],
}
SCOPE_CASES = [
    (name, scopes, expected[i])
    for name, expected in SCOPE_TABLE.items()
    for i, scopes in enumerate(SCOPES)
]


def test_the_scope_table_covers_every_endpoint():
    assert set(SCOPE_TABLE) == set(ENDPOINTS)


@pytest.mark.parametrize(("endpoint", "scopes", "status"), SCOPE_CASES)
def test_endpoint_status_by_token_scope(api_world, endpoint, scopes, status):
    method, path, _expected = ENDPOINTS[endpoint]
    client = app_client(api_world.base.consumer, scopes=scopes)
    response = getattr(client, method)(path.format(id=api_world.request_id), **PURPOSE)
    assert response.status_code == status, response.content[:300]
    if status == 403:
        assert "scope" in response.json()["detail"]


@pytest.mark.parametrize(("scopes", "status"), [("read requests", 201), ("requests", 201),
                                                ("read", 403), ("", 403)])  # fmt: skip
def test_request_submission_by_token_scope(api_world, scopes, status):
    response = app_client(api_world.base.outsider, scopes=scopes).post(
        "/api/v1/requests/", _submission(), format="json"
    )
    assert response.status_code == status, response.content[:300]


# Which fields each role reads in records (expired grants fall back to open fields).
READABLE = {"owner": ALL, "granted": GRANTED_FIELDS, "no_grant": OPEN, "expired": OPEN}


@pytest.mark.parametrize("role", list(READABLE))
def test_records_hold_exactly_the_readable_fields(api_world, later, role):
    body = api_world.clients[role].get(f"/api/v1/datasets/{CODE}/records/", **PURPOSE).json()
    assert len(body["results"]) == len(ROWS)
    assert list(body["results"][0]) == READABLE[role]


@pytest.mark.parametrize("role", list(READABLE))
def test_catalog_detail_tells_my_access(api_world, later, role):
    body = api_world.clients[role].get(f"/api/v1/catalog/{CODE}/").json()
    assert list(body["my_access"]["fields"]) == READABLE[role]
    assert body["my_access"]["is_owner"] is (role == "owner")
    assert bool(body["my_access"]["grants"]) is (role == "granted")


def test_auditor_sees_catalog_without_my_access(api_world):
    body = api_world.clients["auditor"].get(f"/api/v1/catalog/{CODE}/").json()
    assert body["my_access"] is None


def _submission() -> dict:
    return {
        "dataset": CODE,
        "fields": ["address"],
        "purpose": "低保核查",
        "legal_basis": "《社会救助暂行办法》",
        "valid_until": (clock.today() + dt.timedelta(days=365)).isoformat(),
    }


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 400), ("granted", 201), ("no_grant", 201), ("auditor", 403), ("anonymous", 401)],
)
def test_request_submission_by_role(api_world, role, status):
    response = api_world.clients[role].post("/api/v1/requests/", _submission(), format="json")
    assert response.status_code == status, response.content[:300]
    if status == 201:
        assert set(response.json()) >= {"id", "status", "due_by"}
        assert response.json()["status"] == "submitted"


@pytest.mark.parametrize(
    ("role", "status"), [("owner", 200), ("granted", 200), ("no_grant", 404), ("anonymous", 401)]
)
def test_request_detail_visible_to_both_sides_only(api_world, role, status):
    response = api_world.clients[role].get(f"/api/v1/requests/{api_world.request_id}/")
    assert response.status_code == status


def test_records_require_a_purpose(api_world):
    response = api_world.clients["granted"].get(f"/api/v1/datasets/{CODE}/records/")
    assert response.status_code == 400
    assert "X-Purpose" in response.json()["detail"]


def test_unknown_dataset_and_key_are_404(api_world):
    client = api_world.clients["owner"]
    assert client.get("/api/v1/datasets/NOPE/records/", **PURPOSE).status_code == 404
    missing = client.get(f"/api/v1/datasets/{CODE}/records/000/", **PURPOSE)
    assert missing.status_code == 404 and missing["Content-Type"] == "application/problem+json"


def test_unknown_api_path_is_a_problem(api_world):
    response = api_world.clients["owner"].get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
