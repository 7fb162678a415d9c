"""/api/v1/objections/: every endpoint for every kind of caller (generated from one table, as
tests/api/test_permissions.py does), the flows of both sides, problem details and query counts."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from tests.api.conftest import app_client
from tests.objections.conftest import CODE, KEY, report
from tests.records.rows import ROWS

pytestmark = pytest.mark.django_db

ROLES = ["owner", "granted", "no_grant", "auditor", "platform", "anonymous"]
BODY = {"dataset": CODE, "key": KEY, "fields": ["name"], "description": "姓名有误"}
ANSWER = {"outcome": "corrected", "answer": "已更正"}
OTHER_RECORD = {**BODY, "key": ROWS[1]["id_number"]}


def _session(user, csrf: bool = False) -> APIClient:
    client = APIClient(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


@pytest.fixture
def clients(ow) -> dict[str, APIClient]:
    return {
        "owner": app_client(ow.provider),
        "granted": app_client(ow.consumer),
        "no_grant": app_client(ow.outsider),
        "auditor": _session(ow.provider_auditor),
        "platform": _session(ow.platform_auditor),
        "anonymous": APIClient(),
    }


@pytest.fixture
def objection(ow):
    return report(ow)


# endpoint -> (method, path with {id}, body, expected status per role)
ENDPOINTS = {
    "list": ("get", "/api/v1/objections/", None, [200, 200, 200, 200, 200, 401]),
    "detail": ("get", "/api/v1/objections/{id}/", None, [200, 200, 404, 200, 200, 401]),
    # Another record than the `objection` fixture's: one open objection per record.
    "create": ("post", "/api/v1/objections/", OTHER_RECORD, [400, 201, 403, 403, 403, 401]),
    "answer": ("post", "/api/v1/objections/{id}/answer/", ANSWER, [200, 403, 404, 403, 403, 401]),
    "withdraw": ("post", "/api/v1/objections/{id}/withdraw/", {}, [403, 200, 404, 403, 403, 401]),
}
CASES = [
    (name, role, expected[i])
    for name, (_m, _p, _b, expected) in ENDPOINTS.items()
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(("endpoint", "role", "status"), CASES)
def test_endpoint_status_by_role(clients, objection, endpoint, role, status):
    method, path, body, _expected = ENDPOINTS[endpoint]
    client = clients[role]
    response = getattr(client, method)(path.format(id=objection.pk), body, format="json")
    assert response.status_code == status, response.content[:300]
    assert response["X-Request-Id"]
    if status >= 400:
        problem = response.json()
        assert response["Content-Type"] == "application/problem+json"
        assert problem["status"] == status and problem["request_id"] and problem["type"]


@pytest.mark.parametrize(("role", "count"), [("owner", 1), ("granted", 1), ("no_grant", 0)])
def test_each_side_lists_its_own_objections(clients, objection, role, count):
    body = clients[role].get("/api/v1/objections/").json()
    assert len(body) == count
    if count:
        assert body[0]["id"] == objection.pk and body[0]["key"] == KEY
        assert (body[0]["provider"], body[0]["consumer"]) == ("GA", "WJ")
        assert body[0]["fields"] == ["name"] and body[0]["status"] == "open"


def test_the_list_filters_by_status(clients, objection):
    client = clients["granted"]
    assert len(client.get("/api/v1/objections/?status=open").json()) == 1
    assert client.get("/api/v1/objections/?status=answered").json() == []
    assert len(client.get("/api/v1/objections/?status=").json()) == 1  # empty: no filter


def test_an_unknown_status_is_a_400_naming_the_parameter_and_the_allowed_ones(clients):
    # The same problem as the requests list's (tests/api/test_requests.py).
    response = clients["granted"].get("/api/v1/objections/?status=nope")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json() == {
        "type": "https://govdata.example/problems/invalid",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request is invalid.",
        "errors": {"status": ["Unknown value of status; use one of: open, answered, withdrawn."]},
        "request_id": response["X-Request-Id"],
    }


@pytest.mark.parametrize("query", ["provider=GA", "bogus=1", "status=open&status=answered"])
def test_a_filter_the_list_does_not_take_or_given_twice_is_a_400_naming_it(
    clients, objection, query
):
    response = clients["granted"].get(f"/api/v1/objections/?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [query.split("=")[0]]


def test_a_granted_application_reports_and_gets_the_due_date(ow, clients):
    response = clients["granted"].post("/api/v1/objections/", BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "open" and body["due_by"] and body["description"] == "姓名有误"
    assert body["proposed_value"] == "" and body["outcome"] == ""


@pytest.mark.parametrize(
    ("change", "status", "where"),
    [
        ({"dataset": "NOPE"}, 404, None),
        ({"key": "440106199001019999"}, 400, "key"),
        ({"fields": ["address"]}, 403, None),
        ({"fields": []}, 400, "fields"),
        ({"description": ""}, 400, "description"),
        ({"description": "x" * 2001}, 400, "description"),
    ],
)
def test_bad_submissions_are_problems_naming_what_is_wrong(clients, change, status, where):
    response = clients["granted"].post("/api/v1/objections/", {**BODY, **change}, format="json")
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    if where:
        assert where in response.json()["errors"]


def test_an_unknown_key_says_so(clients):
    response = clients["granted"].post(
        "/api/v1/objections/", {**BODY, "key": "440106199001019999"}, format="json"
    )
    assert response.json()["errors"]["key"] == [
        "No published record of GA-RK-001 that your department may read has this key."
    ]


def test_the_provider_officer_answers_once_with_text(ow, objection):
    client = _session(ow.provider_officer)
    url = f"/api/v1/objections/{objection.pk}/answer/"
    missing = client.post(url, {"outcome": "confirmed"}, format="json")
    assert missing.status_code == 400 and "answer" in missing.json()["errors"]
    response = client.post(url, ANSWER, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["outcome"]) == ("answered", "corrected")
    assert response.json()["answered_at"]
    again = client.post(url, ANSWER, format="json")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"


def test_the_reporters_officer_withdraws_from_the_browser(ow, objection):
    response = _session(ow.consumer_officer).post(
        f"/api/v1/objections/{objection.pk}/withdraw/", {"reason": "误报"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def test_session_calls_need_csrf(ow):
    client = _session(ow.consumer_officer, csrf=True)
    assert client.get("/api/v1/objections/").status_code == 200
    assert client.post("/api/v1/objections/", BODY, format="json").status_code == 403


def test_the_read_scope_alone_lists_but_does_not_report_or_answer(ow, objection):
    reader = app_client(ow.consumer, scopes="read")
    assert reader.get("/api/v1/objections/").status_code == 200
    assert reader.post("/api/v1/objections/", BODY, format="json").status_code == 403
    provider_reader = app_client(ow.provider, scopes="read")
    url = f"/api/v1/objections/{objection.pk}/answer/"
    refused = provider_reader.post(url, ANSWER, format="json")
    assert refused.status_code == 403
    assert "objections" in refused.json()["detail"] and "requests" in refused.json()["detail"]


def test_the_requests_scope_alone_reports_and_follows_its_objection(ow):
    reporter = app_client(ow.consumer, scopes="requests")
    created = reporter.post("/api/v1/objections/", BODY, format="json")
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert [o["id"] for o in reporter.get("/api/v1/objections/").json()] == [pk]
    assert reporter.get(f"/api/v1/objections/{pk}/").status_code == 200


def _get_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("role", ["granted", "owner", "platform"])
def test_the_list_costs_the_same_queries_for_one_objection_or_many(
    ow, clients, objection, role, django_assert_num_queries
):
    client = clients[role]
    one = _get_queries(client, "/api/v1/objections/")
    for _n in range(4):
        report(ow, fields=["name", "mobile", "birth_date"])
    with django_assert_num_queries(one):
        assert len(client.get("/api/v1/objections/").json()) == 5


def test_the_schema_documents_the_endpoints_and_real_answers_match_it(clients, objection):
    import orjson

    from tests.api.test_schema import _check

    openapi = orjson.loads(clients["owner"].get("/api/schema/?format=json").content)
    operations = {
        op["operationId"]
        for path, item in openapi["paths"].items()
        if path.startswith("/api/v1/objections/")
        for op in item.values()
    }
    assert operations >= {"objections_list", "objections_create", "objections_retrieve",
                          "objections_answer", "objections_withdraw"}  # fmt: skip
    _check(openapi, "/api/v1/objections/", "get", clients["granted"].get("/api/v1/objections/"))
    detail = clients["owner"].get(f"/api/v1/objections/{objection.pk}/")
    _check(openapi, "/api/v1/objections/{id}/", "get", detail)
    problem = clients["no_grant"].post("/api/v1/objections/", BODY, format="json")
    _check(openapi, "/api/v1/objections/", "post", problem)


def test_a_second_open_objection_on_the_same_record_is_a_409_naming_the_first(ow, clients):
    first = clients["granted"].post("/api/v1/objections/", BODY, format="json")
    assert first.status_code == 201
    again = clients["granted"].post(
        "/api/v1/objections/", {**BODY, "fields": ["gender"]}, format="json"
    )
    assert again.status_code == 409, again.content
    assert f"#{first.json()['id']}" in again.json()["detail"]
    assert again["Content-Type"].startswith("application/problem+json")


def test_changes_through_the_api_name_the_application_and_the_call_in_the_audit_log(ow, clients):
    from apps.api.models import AgencyApplication
    from apps.audit.models import AuditEvent

    call = {"HTTP_X_REQUEST_ID": "req-objection-1", "REMOTE_ADDR": "203.0.113.8"}
    created = clients["granted"].post("/api/v1/objections/", BODY, format="json", **call)
    pk = created.json()["id"]
    officer = {"HTTP_X_REQUEST_ID": "req-objection-2", "REMOTE_ADDR": "203.0.113.9"}
    _session(ow.provider_officer).post(
        f"/api/v1/objections/{pk}/answer/", ANSWER, format="json", **officer
    )
    agency = AgencyApplication.objects.get(department=ow.consumer)
    submitted = AuditEvent.objects.get(action="objection.submit")
    assert (submitted.request_id, submitted.client_ip) == ("req-objection-1", "203.0.113.8")
    assert submitted.application_id == agency.application_id
    answered = AuditEvent.objects.get(action="objection.answer")
    assert (answered.request_id, answered.client_ip) == ("req-objection-2", "203.0.113.9")
    assert answered.user_id == ow.provider_officer.pk and answered.application_id is None
