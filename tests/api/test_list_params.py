"""The query string of every list endpoint (apps.api.views.base.query_checked): a parameter the
endpoint does not take, or one it takes given twice, is a 400 problem naming it, never ignored;
every parameter the schema documents is taken. Generated for every list endpoint from one
table, as tests/api/test_permissions.py does for roles."""

from __future__ import annotations

import orjson
import pytest

# list endpoint -> (its path, the role that may read it, its documented parameters)
LISTS = {
    "departments": ("/api/v1/departments/", "granted", set()),
    "catalog": (
        "/api/v1/catalog/",
        "granted",
        {"provider", "sharing_type", "q", "cursor", "page_size"},
    ),
    "requests": ("/api/v1/requests/", "granted", {"status"}),
    "objections": ("/api/v1/objections/", "granted", {"status"}),
    "audit_events": (
        "/api/v1/audit/events/",
        "auditor",
        {
            "dataset",
            "consumer",
            "provider",
            "department",
            "field",
            "purpose",
            "end_user",
            "outcome",
            "kind",
            "since",
            "until",
            "cursor",
            "page_size",
        },
    ),
    "audit_checkpoints": ("/api/v1/audit/checkpoints/", "auditor", set()),
}
# Not filters of these lists: `provider` of the requests list (the tester's case), `format`
# (an export's file format), a misspelling, and a record filter.
UNKNOWN = ["provider", "bogus", "format", "enduser", "district__in"]
CASES = [
    (name, param)
    for name, (_p, _r, known) in LISTS.items()
    for param in UNKNOWN
    if param not in known
]


def problem(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["request_id"] == response["X-Request-Id"]
    return body


@pytest.mark.parametrize(("endpoint", "param"), CASES)
def test_a_parameter_a_list_does_not_take_is_a_400_naming_it(api_world, endpoint, param):
    path, role, _known = LISTS[endpoint]
    response = api_world.clients[role].get(path, {param: "GD-WJ"})
    body = problem(response)
    assert body["type"] == "https://govdata.example/problems/invalid"
    assert body["errors"] == {param: [f"This endpoint takes no “{param}”."]}


@pytest.mark.parametrize("endpoint", [name for name, (_p, _r, known) in LISTS.items() if known])
def test_a_parameter_given_twice_is_a_400_naming_it(api_world, endpoint):
    path, role, known = LISTS[endpoint]
    name = sorted(known)[0]
    response = api_world.clients[role].get(f"{path}?{name}=&{name}=")
    assert problem(response)["errors"] == {name: [f"“{name}” is given more than once."]}


@pytest.mark.parametrize("endpoint", list(LISTS))
def test_every_unknown_parameter_is_named_at_once(api_world, endpoint):
    path, role, _known = LISTS[endpoint]
    response = api_world.clients[role].get(f"{path}?bogus=1&enduser=x")
    assert set(problem(response)["errors"]) == {"bogus", "enduser"}


@pytest.fixture
def openapi(api_world):
    response = api_world.clients["owner"].get("/api/schema/?format=json")
    assert response.status_code == 200
    return orjson.loads(response.content)


@pytest.mark.parametrize("endpoint", list(LISTS))
def test_the_schema_documents_exactly_the_parameters_a_list_takes(api_world, openapi, endpoint):
    path, role, known = LISTS[endpoint]
    operation = openapi["paths"][path]["get"]
    documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    assert documented == known
    # Each is taken, whatever its value says (an empty one is no filter, or a 400 naming it
    # for a value it does not accept): none is refused as a parameter the list does not take.
    response = api_world.clients[role].get(path, dict.fromkeys(known, ""))
    errors = response.json().get("errors", {}) if response.status_code == 400 else {}
    assert not [m for messages in errors.values() for m in messages if "takes no" in m]
    assert "not take" in operation["responses"]["400"]["description"]


@pytest.mark.parametrize("endpoint", list(LISTS))
def test_a_list_without_parameters_still_answers(api_world, endpoint):
    path, role, _known = LISTS[endpoint]
    assert api_world.clients[role].get(path).status_code == 200


def test_the_refusal_is_worded_in_the_callers_language(api_world):
    response = api_world.clients["granted"].get(
        "/api/v1/requests/?provider=GD-WJ", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert problem(response)["errors"] == {"provider": ["此接口不接受“provider”。"]}
