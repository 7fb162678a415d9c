"""The OpenAPI document matches what the server really answers: bodies, content types (errors
are application/problem+json with the Problem schema), headers, security schemes and the scopes
each operation really needs."""

from __future__ import annotations

import datetime as dt

import jsonschema
import orjson
import pytest
from django.conf import settings
from django.urls import resolve
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from apps.api.throttling import ApplicationRateThrottle, throttle_reset
from apps.common import clock
from apps.objections.models import Objection
from apps.records.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from apps.sharing.models import DataRequest
from tests.api.conftest import PURPOSE, ROWS, app_client

CODE = "GA-RK-001"
KEY = ROWS[0]["id_number"]
PROBLEM_TYPE = "application/problem+json"
RECORDS = "/api/v1/datasets/{code}/records/"
EXPORT = "/api/v1/datasets/{code}/export/"
RECORD = "/api/v1/datasets/{code}/records/{key}/"
AUDIT = ["/api/v1/audit/events/", "/api/v1/audit/verify/", "/api/v1/audit/checkpoints/"]


def _json_schema(node):
    """OpenAPI 3.0 `nullable` to JSON Schema."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture
def openapi(api_world):
    response = api_world.clients["owner"].get("/api/schema/?format=json")
    assert response.status_code == 200
    return orjson.loads(response.content)


def _deref(openapi, node: dict) -> dict:
    if "$ref" not in node:
        return node
    _hash, _components, kind, name = node["$ref"].split("/")
    return openapi["components"][kind][name]


def _validate(openapi, body, schema) -> None:
    root = {"components": _json_schema(openapi["components"]), **_json_schema(schema)}
    jsonschema.validate(body, root)


def _check(openapi, template: str, method: str, response) -> None:
    """The response's status, content type, body and headers are the documented ones."""
    operation = openapi["paths"][template][method]
    status = str(response.status_code)
    assert status in operation["responses"], f"{method} {template}: {status} not documented"
    spec = operation["responses"][status]
    content_type = response["Content-Type"].split(";")[0].strip()
    for name, header in spec.get("headers", {}).items():
        if _deref(openapi, header).get("required"):
            assert response.has_header(name), f"{method} {template} {status}: no {name}"
    if response.status_code >= 400:
        assert content_type == PROBLEM_TYPE
        assert list(spec["content"]) == [PROBLEM_TYPE]
        assert spec["content"][PROBLEM_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert content_type in spec["content"], f"{method} {template} {status}: {content_type}"
    if response.streaming:
        assert b"".join(response.streaming_content)  # read to the end: the export finishes
    elif content_type in ("application/json", PROBLEM_TYPE):
        _validate(openapi, response.json(), spec["content"][content_type]["schema"])


# (template, path, role, expected status): each case must really produce its status.
CASES = [
    ("/api/v1/departments/", "/api/v1/departments/", "owner", 200),
    ("/api/v1/catalog/", "/api/v1/catalog/", "granted", 200),
    ("/api/v1/catalog/{code}/", f"/api/v1/catalog/{CODE}/", "granted", 200),
    (RECORDS, f"/api/v1/datasets/{CODE}/records/?page_size=2", "granted", 200),
    (RECORD, f"/api/v1/datasets/{CODE}/records/{KEY}/", "granted", 200),
    (EXPORT, f"/api/v1/datasets/{CODE}/export/?format=ndjson", "granted", 200),
    (EXPORT, f"/api/v1/datasets/{CODE}/export/?format=csv", "granted", 200),
    ("/api/v1/requests/", "/api/v1/requests/", "granted", 200),
    *[(path, path, "auditor", 200) for path in AUDIT],
    # 400: malformed query, NUL (middleware), bad page_size, bad format, bad catalogue filter
    (RECORDS, f"/api/v1/datasets/{CODE}/records/?birth_date=notadate", "owner", 400),
    (RECORDS, f"/api/v1/datasets/{CODE}/records/?format=csv", "granted", 400),
    (RECORDS, f"/api/v1/datasets/{CODE}/records/?page_size={MAX_PAGE_SIZE + 1}", "granted", 400),
    (EXPORT, f"/api/v1/datasets/{CODE}/export/?format=xml", "granted", 400),
    ("/api/v1/catalog/", "/api/v1/catalog/?sharing_type=bogus", "granted", 400),
    ("/api/v1/requests/", "/api/v1/requests/?status=bogus", "granted", 400),
    ("/api/v1/departments/", "/api/v1/departments/?q=%00", "owner", 400),
    ("/api/v1/audit/events/", "/api/v1/audit/events/?since=yesterday", "auditor", 400),
    # 400: a parameter a list does not take, a code no department has, a malformed page
    ("/api/v1/requests/", "/api/v1/requests/?provider=GD-WJ", "granted", 400),
    ("/api/v1/catalog/", "/api/v1/catalog/?bogus=1", "granted", 400),
    ("/api/v1/catalog/", "/api/v1/catalog/?provider=XX-NOPE", "granted", 400),
    ("/api/v1/catalog/", "/api/v1/catalog/?page_size=abc", "granted", 400),
    ("/api/v1/departments/", "/api/v1/departments/?q=GA", "owner", 400),
    ("/api/v1/objections/", "/api/v1/objections/?bogus=1", "granted", 400),
    ("/api/v1/audit/events/", "/api/v1/audit/events/?consumer=XX-NOPE", "auditor", 400),
    ("/api/v1/audit/events/", "/api/v1/audit/events/?outcome=bogus", "auditor", 400),
    ("/api/v1/audit/checkpoints/", "/api/v1/audit/checkpoints/?bogus=1", "auditor", 400),
    # 401
    (RECORDS, f"/api/v1/datasets/{CODE}/records/", "anonymous", 401),
    ("/api/v1/departments/", "/api/v1/departments/", "anonymous", 401),
    ("/api/v1/audit/verify/", "/api/v1/audit/verify/", "anonymous", 401),
    # 403: unreadable field, no grant, an application on the audit API
    (RECORDS, f"/api/v1/datasets/{CODE}/records/?religion=x", "granted", 403),
    (RECORD, f"/api/v1/datasets/{CODE}/records/{KEY}/", "no_grant", 403),
    (EXPORT, f"/api/v1/datasets/{CODE}/export/?format=csv&fields=religion", "granted", 403),
    ("/api/v1/audit/events/", "/api/v1/audit/events/", "granted", 403),
    ("/api/v1/requests/", "/api/v1/requests/", "auditor", 403),
    # 404: unknown dataset, record, request
    (RECORDS, "/api/v1/datasets/NOPE/records/", "granted", 404),
    (RECORD, f"/api/v1/datasets/{CODE}/records/000000000000000000/", "granted", 404),
    ("/api/v1/catalog/{code}/", "/api/v1/catalog/NOPE/", "granted", 404),
    ("/api/v1/requests/{id}/", "/api/v1/requests/999999/", "granted", 404),
]


@pytest.mark.parametrize(("template", "path", "role", "status"), CASES)
def test_real_responses_validate_against_the_schema(
    api_world, openapi, template, path, role, status
):
    response = api_world.clients[role].get(path, **PURPOSE)
    assert response.status_code == status, response.content
    _check(openapi, template, "get", response)


def test_a_read_without_purpose_is_a_documented_400(api_world, openapi):
    response = api_world.clients["granted"].get(f"/api/v1/datasets/{CODE}/records/")
    assert response.status_code == 400
    _check(openapi, RECORDS, "get", response)


def test_an_invalid_body_is_a_problem_naming_the_invalid_members(api_world, openapi):
    response = api_world.clients["granted"].post(
        "/api/v1/requests/", {"dataset": CODE}, format="json"
    )
    assert response.status_code == 400
    _check(openapi, "/api/v1/requests/", "post", response)
    assert set(response.json()["errors"]) >= {"fields", "purpose"}


def test_a_revoked_request_and_its_grant_validate_against_the_schema(api_world, openapi):
    officer = APIClient()
    officer.force_login(api_world.base.provider_officer)
    path = f"/api/v1/requests/{api_world.request_id}/"
    revoked = officer.post(f"{path}revoke/", {"reason": "用途超范围"}, format="json")
    assert revoked.status_code == 200
    _check(openapi, "/api/v1/requests/{id}/revoke/", "post", revoked)
    response = api_world.clients["granted"].get(path)
    assert response.json()["revocation_reason"] == "用途超范围"
    assert response.json()["granted_fields"] and response.json()["granted_until"]
    _check(openapi, "/api/v1/requests/{id}/", "get", response)


def test_a_second_pending_request_is_a_documented_409(api_world, openapi):
    body = {**_calls(api_world.base, 0)["requests_create"][4], "fields": ["address"]}
    client = api_world.clients["no_grant"]
    first = client.post("/api/v1/requests/", body, format="json")
    assert first.status_code == 201
    _check(openapi, "/api/v1/requests/", "post", first)
    second = client.post("/api/v1/requests/", body, format="json")
    assert second.status_code == 409 and second.json()["pending_request"] == first.json()["id"]
    _check(openapi, "/api/v1/requests/", "post", second)


def test_an_action_out_of_turn_is_a_documented_409(api_world, openapi):
    officer = APIClient()
    officer.force_login(api_world.base.provider_officer)
    path = f"/api/v1/requests/{api_world.request_id}/approve/"  # approved already
    response = officer.post(path, {}, format="json")
    assert response.status_code == 409
    _check(openapi, "/api/v1/requests/{id}/approve/", "post", response)


def test_a_throttled_call_is_a_documented_429(api_world, openapi):
    from rest_framework.settings import api_settings

    throttle_reset()
    ApplicationRateThrottle.THROTTLE_RATES = {"application": "1/min"}
    try:
        client = api_world.clients["granted"]
        codes = [client.get("/api/v1/departments/") for _ in range(2)]
    finally:
        ApplicationRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
        throttle_reset()
    assert [r.status_code for r in codes] == [200, 429]
    _check(openapi, "/api/v1/departments/", "get", codes[1])


def test_a_crash_is_a_documented_500(api_world, openapi, monkeypatch):
    from apps.api.views import departments

    def crash(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(departments, "json_response", crash)
    client = api_world.clients["owner"]
    client.raise_request_exception = False
    response = client.get("/api/v1/departments/")
    assert response.status_code == 500
    _check(openapi, "/api/v1/departments/", "get", response)


def test_every_error_response_is_a_problem(openapi):
    assert "Problem" in openapi["components"]["schemas"]
    for item in openapi["paths"].values():
        for method, operation in item.items():
            template = operation["operationId"]
            for status, spec in operation["responses"].items():
                assert "X-Request-Id" in spec["headers"], (method, template, status)
                if int(status) >= 400:
                    assert list(spec["content"]) == [PROBLEM_TYPE], (method, template, status)
                if status in ("429", "503"):
                    assert "Retry-After" in spec["headers"]


def test_the_schema_is_valid_openapi(openapi):
    validate_schema(openapi)


# --- Security -------------------------------------------------------------------------------


def test_security_schemes_are_client_credentials_and_the_session(api_world, openapi):
    from oauth2_provider.scopes import get_scopes_backend

    schemes = openapi["components"]["securitySchemes"]
    assert set(schemes) == {"oauth2", "browserSession"}
    session = schemes["browserSession"]
    assert (session["type"], session["in"]) == ("apiKey", "cookie")
    assert session["name"] == settings.SESSION_COOKIE_NAME
    oauth2 = schemes["oauth2"]
    assert oauth2["type"] == "oauth2" and list(oauth2["flows"]) == ["clientCredentials"]
    flow = oauth2["flows"]["clientCredentials"]
    assert set(flow["scopes"]) == {"read", "requests"} == set(get_scopes_backend().get_all_scopes())
    assert all(description for description in flow["scopes"].values())
    # The token URL really issues client-credentials tokens.
    from apps.api.services import application_create

    agency, secret = application_create(department=api_world.base.consumer, name="schema")
    token = APIClient().post(
        flow["tokenUrl"],
        {
            "grant_type": "client_credentials",
            "client_id": agency.application.client_id,
            "client_secret": secret,
        },
    )
    assert token.status_code == 200 and token.json()["access_token"]


def _requirements(openapi) -> dict[tuple[str, str], list]:
    return {
        (method, template): operation.get("security", [])
        for template, item in openapi["paths"].items()
        for method, operation in item.items()
    }


def test_audit_operations_declare_the_session_only_and_no_throttle(api_world, openapi):
    for template in AUDIT:
        operation = openapi["paths"][template]["get"]
        assert operation["security"] == [{"browserSession": []}]
        assert "429" not in operation["responses"]
        for role, status in [("auditor", 200), ("anonymous", 401), ("owner", 403)]:
            response = api_world.clients[role].get(template)
            assert response.status_code == status
            _check(openapi, template, "get", response)
        # Even a token holding every scope is refused: the audit API needs a person.
        assert app_client(api_world.base.provider).get(template).status_code == 403


def test_429_is_documented_exactly_where_the_throttle_applies(openapi):
    for method, template in _requirements(openapi):
        path = template.replace("{code}", CODE).replace("{key}", KEY).replace("{id}", "1")
        view = resolve(path).func.view_class
        throttled = bool(view.throttle_classes)
        responses = openapi["paths"][template][method]["responses"]
        assert ("429" in responses) == throttled, (method, template)


# operationId -> (department, officer, method, path, body): a call that the caller may make.
def _calls(world, request_id):
    reason = {"reason": "schema test"}
    pending = {
        "dataset": CODE,
        "fields": ["name"],
        "purpose": "核查",
        "legal_basis": "《条例》",
        "valid_until": (clock.today() + dt.timedelta(days=365)).isoformat(),
    }
    consumer = (world.consumer, world.consumer_officer)
    provider = (world.provider, world.provider_officer)
    req = f"/api/v1/requests/{request_id}"
    return {
        "departments_list": (*consumer, "get", "/api/v1/departments/", None),
        "catalog_list": (*consumer, "get", "/api/v1/catalog/", None),
        "catalog_retrieve": (*consumer, "get", f"/api/v1/catalog/{CODE}/", None),
        "records_list": (*consumer, "get", f"/api/v1/datasets/{CODE}/records/", None),
        "records_retrieve": (*consumer, "get", f"/api/v1/datasets/{CODE}/records/{KEY}/", None),
        "records_export": (*consumer, "get", f"/api/v1/datasets/{CODE}/export/?format=csv", None),
        "requests_list": (*consumer, "get", "/api/v1/requests/", None),
        "requests_create": (
            world.outsider,
            world.outsider_officer,
            "post",
            "/api/v1/requests/",
            pending,
        ),
        "requests_retrieve": (*consumer, "get", f"{req}/", None),
        "requests_approve": (*provider, "post", f"{req}/approve/", {}),
        "requests_reject": (*provider, "post", f"{req}/reject/", reason),
        "requests_revoke": (*provider, "post", f"{req}/revoke/", reason),
        "requests_withdraw": (*consumer, "post", f"{req}/withdraw/", {}),
    }


def _call(client, method, path, body):
    if method == "post":
        return client.post(path, body, format="json")
    return client.get(path, **PURPOSE)


def test_each_operation_declares_the_scope_it_really_needs(api_world, openapi):
    """Each declared scope alone lets an application through and a token holding none of them
    is a 403; where no scope is declared, no token gets through; the officer's session always
    does."""
    calls = _calls(api_world.base, api_world.request_id)
    all_scopes = {"read", "requests"}
    operations = {
        openapi["paths"][template][method]["operationId"]: security
        for (method, template), security in _requirements(openapi).items()
    }
    assert set(calls) <= set(operations)
    for operation_id, (department, officer, verb, path, body) in calls.items():
        security = operations[operation_id]
        if security == [{"browserSession": []}]:
            refused = _call(app_client(department, scopes="read requests"), verb, path, body)
            assert refused.status_code == 403, operation_id
        else:
            assert security[-1] == {"browserSession": []}, operation_id
            declared = []
            for requirement in security[:-1]:
                assert list(requirement) == ["oauth2"], operation_id
                (scope,) = requirement["oauth2"]  # one scope per alternative
                declared.append(scope)
            others = " ".join(sorted(all_scopes - set(declared)))
            refused = _call(app_client(department, scopes=others), verb, path, body)
            assert refused.status_code == 403, (operation_id, others)
            for scope in declared:
                allowed = _call(app_client(department, scopes=scope), verb, path, body)
                assert allowed.status_code not in (401, 403), (operation_id, scope, allowed.content)
        session = APIClient()
        session.force_login(officer)
        response = _call(session, verb, path, body)
        assert response.status_code not in (401, 403), (operation_id, response.content)


def test_requests_need_the_requests_scope_and_decisions_an_officer(openapi):
    requirements = {
        openapi["paths"][template][method]["operationId"]: security
        for (method, template), security in _requirements(openapi).items()
    }
    for operation_id in ["requests_create", "requests_withdraw"]:
        assert requirements[operation_id] == [{"oauth2": ["requests"]}, {"browserSession": []}]
    for operation_id in ["requests_approve", "requests_reject", "requests_revoke"]:
        assert requirements[operation_id] == [{"browserSession": []}]
    for operation_id in ["records_list", "records_retrieve", "records_export"]:
        assert requirements[operation_id] == [{"oauth2": ["read"]}, {"browserSession": []}]
    # Finding datasets and following requests: either scope.
    for operation_id in [
        "requests_list",
        "requests_retrieve",
        "catalog_list",
        "catalog_retrieve",
        "departments_list",
    ]:
        assert requirements[operation_id] == [
            {"oauth2": ["read"]},
            {"oauth2": ["requests"]},
            {"browserSession": []},
        ]
    assert requirements["v1_audit_public_key_retrieve"] == [{}]


# --- Record parameters ----------------------------------------------------------------------


def _parameters(openapi, template: str) -> dict[tuple[str, str], dict]:
    return {(p["in"], p["name"]): p for p in openapi["paths"][template]["get"]["parameters"]}


def test_every_record_operation_documents_the_read_headers(openapi):
    for template in [RECORDS, RECORD, EXPORT]:
        params = _parameters(openapi, template)
        assert params["header", "X-Purpose"]["required"]
        assert not params["header", "X-Case-Id"].get("required")
        assert not params["header", "X-End-User"].get("required")


def test_record_query_parameters_are_the_ones_the_server_reads(openapi):
    listing = _parameters(openapi, RECORDS)
    assert {name for where, name in listing if where == "query"} == {
        "fields",
        "ordering",
        "cursor",
        "page_size",
        "filters",
    }
    assert listing["query", "page_size"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_PAGE_SIZE,
        "default": DEFAULT_PAGE_SIZE,
    }
    filters = listing["query", "filters"]
    assert filters["style"] == "form" and filters["explode"] is True
    assert filters["schema"]["type"] == "object"
    export = _parameters(openapi, EXPORT)
    assert {name for where, name in export if where == "query"} == {
        "fields",
        "ordering",
        "format",
        "filters",
    }
    assert export["query", "format"]["required"]
    assert export["query", "format"]["schema"]["enum"] == ["csv", "ndjson"]


@pytest.mark.parametrize(
    ("template", "values"),
    [
        ("/api/v1/requests/", DataRequest.Status.values),
        ("/api/v1/objections/", Objection.Status.values),
    ],
)
def test_both_status_filters_document_their_values_and_the_400(openapi, template, values):
    status = _parameters(openapi, template)["query", "status"]
    assert sorted(status["schema"]["enum"]) == sorted(values)
    assert not status.get("required")
    assert "400" in status["description"]
    response = openapi["paths"][template]["get"]["responses"]["400"]
    assert PROBLEM_TYPE in response["content"]


def test_an_unknown_status_on_either_list_is_a_documented_400(api_world, openapi):
    for template in ["/api/v1/requests/", "/api/v1/objections/"]:
        response = api_world.clients["granted"].get(template + "?status=bogus")
        assert response.status_code == 400
        assert list(response.json()["errors"]) == ["status"]
        _check(openapi, template, "get", response)


def test_documented_filters_and_page_size_behave_as_documented(api_world, openapi):
    client = api_world.clients["granted"]
    base = f"/api/v1/datasets/{CODE}/records/"
    cases = [
        (f"?id_number__in={KEY},x&page_size={MAX_PAGE_SIZE}", 200),  # clear for the consumer
        ("?birth_date__gte=1990-01-01", 403),  # masked (year only): no filtering on it
        ("?ordering=-name", 403),  # masked: no ordering by it either
        ("?fields=id_number,name", 200),  # projection on readable fields, masked or not
        ("?nosuch__lte=1", 400),
        ("?page_size=0", 400),
        ("?cursor=%25%25", 400),
    ]
    for query, status in cases:
        response = client.get(base + query, **PURPOSE)
        assert response.status_code == status, (query, response.content)
        _check(openapi, RECORDS, "get", response)
    assert len(client.get(f"{base}?id_number={KEY}", **PURPOSE).json()["results"]) == 1


def test_docs_page_is_served(api_world, client):
    assert client.get("/api/docs/").status_code == 200


def test_every_request_body_is_a_closed_json_object(openapi):
    schemas = openapi["components"]["schemas"]
    bodies = [
        (path, method, media)
        for path, item in openapi["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "requestBody" in operation
        for media in operation["requestBody"]["content"].items()
    ]
    assert bodies
    for path, method, (media_type, media) in bodies:
        assert media_type == "application/json", (path, method)
        schema = schemas[media["schema"]["$ref"].rsplit("/", 1)[-1]]
        assert schema["additionalProperties"] is False, (path, method)
        assert "415" in openapi["paths"][path][method]["responses"], (path, method)


def test_an_unknown_member_and_a_form_body_are_documented_errors(api_world, openapi):
    client = api_world.clients["granted"]
    unknown = client.post("/api/v1/requests/", {"dataset": CODE, "colour": "red"}, format="json")
    assert unknown.status_code == 400 and "colour" in unknown.json()["errors"]
    _check(openapi, "/api/v1/requests/", "post", unknown)
    form = client.post(
        "/api/v1/requests/", "dataset=x", content_type="application/x-www-form-urlencoded"
    )
    assert form.status_code == 415
    _check(openapi, "/api/v1/requests/", "post", form)
