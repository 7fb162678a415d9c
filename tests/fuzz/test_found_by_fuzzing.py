"""Requests the fuzzer found that once failed with a 500, kept as plain regression tests."""

from __future__ import annotations

import base64

import pytest

from tests.api.conftest import app_client


def signed_cursor(world, params: dict, values: list) -> str:
    """A cursor carrying `values`, signed as the server signs the cursors of this read (the
    consumer's, with these query parameters): it passes the MAC, so the values themselves are
    what the server checks. An unsigned or altered cursor is refused before that."""
    from apps.records.query import encode_cursor, record_query_build
    from apps.sharing.policy import access_for_published_code

    dataset, decision = access_for_published_code(code="GA-RK-001", department=world.consumer)
    query = record_query_build(dataset=dataset, decision=decision, params=params, hash_key=b"k")
    return encode_cursor(query, values)


def cursor_values(next_url: str) -> list:
    import orjson

    cursor = next_url.split("cursor=")[1]
    payload = cursor.rpartition(".")[0]  # values.mac
    return orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@pytest.mark.parametrize(
    "path",
    [
        # schemathesis, GET /api/v1/catalog/: PostgreSQL text cannot hold NUL -> ValueError
        "/api/v1/catalog/?sharing_type=conditional&q=%F1%9A%81%A0%00%C2%BAc",
        "/api/v1/catalog/?provider=GA%00",
        "/api/v1/datasets/GA-RK-001/records/?district=%00",
        "/api/v1/datasets/GA-RK-001/export/?format=csv&district__in=a,%00",
    ],
)
def test_nul_character_in_a_query_parameter_is_a_400_problem(world, path):
    client = app_client(world.consumer)
    response = client.get(path, HTTP_X_PURPOSE="fuzz")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")


def test_catalog_cursor_decoding_to_nul_is_not_a_server_error(world):
    client = app_client(world.consumer)
    cursor = base64.urlsafe_b64encode(b"GA\x00").decode()
    response = client.get("/api/v1/catalog/", {"cursor": cursor})
    assert response.status_code < 500, response.content


def test_records_cursor_carrying_nul_is_not_a_server_error(world):

    from apps.records.store import store_ensure_table, store_replace_rows
    from tests.live import population_rows

    store_ensure_table(world.dataset)
    store_replace_rows(world.dataset, population_rows(3))
    client = app_client(world.consumer)
    path = "/api/v1/datasets/GA-RK-001/records/"
    first = client.get(path, {"ordering": "district", "page_size": 1}, HTTP_X_PURPOSE="fuzz")
    assert first.status_code == 200, first.content
    values = cursor_values(first.json()["next"])
    genuine = signed_cursor(world, {"ordering": "district"}, values)
    params = {"ordering": "district", "cursor": genuine}
    assert client.get(path, params, HTTP_X_PURPOSE="fuzz").status_code == 200
    values[0] = "天河区\x00"
    forged = signed_cursor(world, {"ordering": "district"}, values)
    response = client.get(path, {"ordering": "district", "cursor": forged}, HTTP_X_PURPOSE="fuzz")
    assert response.status_code == 400, response.content


@pytest.mark.parametrize(
    "path",
    [
        # exploratory testing of the demo: a NUL in a path segment reached the database
        "/api/v1/catalog/%00/",
        "/api/v1/datasets/%00/records/",
        "/api/v1/datasets/GA-RK-001/records/x%00/",
        "/api/v1/datasets/GA-RK-001/export/%00",
    ],
)
def test_nul_character_in_the_path_is_a_400_problem(world, path):
    client = app_client(world.consumer)
    response = client.get(path, HTTP_X_PURPOSE="fuzz")
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize("position", ["(4294967296,1)", "(1,65536)", "(0,99999)"])
def test_records_cursor_with_a_row_position_out_of_range_is_a_400(world, position):

    from apps.records.store import store_ensure_table, store_replace_rows
    from tests.live import population_rows

    store_ensure_table(world.dataset)
    store_replace_rows(world.dataset, population_rows(3))
    client = app_client(world.consumer)
    path = "/api/v1/datasets/GA-RK-001/records/"
    # The consumer does not see the key in clear, so pages go in row-position order.
    first = client.get(path, {"page_size": 1}, HTTP_X_PURPOSE="fuzz")
    assert first.status_code == 200, first.content
    values = cursor_values(first.json()["next"])
    assert isinstance(values[-1], str) and values[-1].startswith("(")
    genuine = signed_cursor(world, {}, values)
    assert client.get(path, {"cursor": genuine}, HTTP_X_PURPOSE="fuzz").status_code == 200
    values[-1] = position
    forged = signed_cursor(world, {}, values)
    response = client.get(path, {"cursor": forged}, HTTP_X_PURPOSE="fuzz")
    assert response.status_code == 400, response.content
