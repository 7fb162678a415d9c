"""The OpenAPI document matches what the server really answers."""

from __future__ import annotations

import jsonschema
import pytest

from tests.api.conftest import PURPOSE, ROWS

CODE = "GA-RK-001"


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
    import orjson

    return orjson.loads(response.content)


def _check(openapi, template: str, method: str, response) -> None:
    operation = openapi["paths"][template][method]
    spec = operation["responses"][str(response.status_code)]
    content_type = response["Content-Type"].split(";")[0]
    media = spec["content"].get(content_type) or next(iter(spec["content"].values()))
    root = {"components": _json_schema(openapi["components"]), **_json_schema(media["schema"])}
    jsonschema.validate(response.json(), root)


CASES = [
    ("/api/v1/departments/", "/api/v1/departments/", "owner"),
    ("/api/v1/catalog/", "/api/v1/catalog/", "granted"),
    ("/api/v1/catalog/{code}/", f"/api/v1/catalog/{CODE}/", "granted"),
    (
        "/api/v1/datasets/{code}/records/",
        f"/api/v1/datasets/{CODE}/records/?page_size=2",
        "granted",
    ),
    (
        "/api/v1/datasets/{code}/records/{key}/",
        f"/api/v1/datasets/{CODE}/records/{ROWS[0]['id_number']}/",
        "granted",
    ),
    ("/api/v1/datasets/{code}/records/", f"/api/v1/datasets/{CODE}/records/?religion=x", "granted"),
    ("/api/v1/datasets/{code}/records/", f"/api/v1/datasets/{CODE}/records/", "anonymous"),
    ("/api/v1/requests/", "/api/v1/requests/", "granted"),
]


@pytest.mark.parametrize(("template", "path", "role"), CASES)
def test_real_responses_validate_against_the_schema(api_world, openapi, template, path, role):
    response = api_world.clients[role].get(path, **PURPOSE)
    _check(openapi, template, "get", response)


def test_every_record_operation_documents_the_purpose_header(openapi):
    for template in ["/api/v1/datasets/{code}/records/", "/api/v1/datasets/{code}/export/"]:
        params = openapi["paths"][template]["get"]["parameters"]
        purpose = [p for p in params if p["name"] == "X-Purpose"]
        assert purpose and purpose[0]["in"] == "header" and purpose[0]["required"]


def test_docs_page_is_served(api_world, client):
    assert client.get("/api/docs/").status_code == 200
