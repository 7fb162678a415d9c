"""apps.common.middleware: request ids, and the trailing-slash redirect that keeps the method."""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

import pytest


def test_every_response_carries_the_request_id_it_was_given(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="agency-42")
    assert response["X-Request-Id"] == "agency-42"


def test_a_malformed_request_id_is_replaced_by_a_generated_one(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")
    assert response["X-Request-Id"] != "bad id\n" and len(response["X-Request-Id"]) == 32


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_missing_trailing_slash_is_a_308_that_keeps_the_method_and_query(client, method):
    response = getattr(client, method)("/api/v1/requests?status=submitted")
    assert response.status_code == 308
    assert response["Location"] == "/api/v1/requests/?status=submitted"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/api/v1/catalog/a b", "/api/v1/catalog/a%20b/"),
        ("/api/v1/catalog/%E4%BA%BA%E5%8F%A3", "/api/v1/catalog/%E4%BA%BA%E5%8F%A3/"),
        ("/api/v1/catalog/人口", "/api/v1/catalog/%E4%BA%BA%E5%8F%A3/"),
        ("/api/v1/catalog/%3F%23%25", "/api/v1/catalog/%3F%23%25/"),
        ("/api/v1/catalog/a..b", "/api/v1/catalog/a..b/"),
    ],
)
def test_the_308_names_the_path_sent_escaped_plus_the_slash(client, path, location):
    response = client.post(path + "?q=人口&x=%2F")
    assert response.status_code == 308
    assert response["Location"] == location + "?q=%E4%BA%BA%E5%8F%A3&x=%2F"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "location"),
    [
        # gunicorn hands over the request target as sent (RAW_URI): a byte that is not UTF-8
        # and a literal "%FF" are different paths, which Django's request.path confuses.
        ("/api/v1/catalog/%FF", "/api/v1/catalog/%FF/"),
        ("/api/v1/catalog/%25FF", "/api/v1/catalog/%25FF/"),
        ("/api/v1/catalog/%e4%ba%ba%FF", "/api/v1/catalog/%E4%BA%BA%FF/"),
    ],
)
def test_the_308_keeps_bytes_that_are_not_utf8_as_sent(client, target, location):
    response = client.get(target + "?status=x", RAW_URI=target + "?status=x")
    assert response.status_code == 308
    assert response["Location"] == location + "?status=x"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/catalog/..",
        "/api/v1/catalog/%2e%2e",
        "/api/v1/catalog/.%2E",
        "/api/v1/catalog/.",
        "/api/v1/datasets/../records",
        "/api/v1/datasets/%2E%2E/records",
    ],
)
def test_a_path_with_a_dot_segment_is_a_404_not_a_redirect_to_another_path(client, path):
    # The client would resolve `/api/v1/datasets/../records/` to `/api/v1/records/`.
    response = client.post(path, RAW_URI=path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert "Location" not in response


def test_behind_gunicorn_the_308_names_exactly_the_bytes_sent(live_server_url):
    expected = {
        "/api/v1/catalog/%FF?a=%FF": (308, "/api/v1/catalog/%FF/?a=%FF"),
        "/api/v1/catalog/%25FF": (308, "/api/v1/catalog/%25FF/"),
        "/api/v1/catalog/%E4%BA%BA%20%e5%8f%a3": (308, "/api/v1/catalog/%E4%BA%BA%20%E5%8F%A3/"),
        "/api/v1/datasets/../records": (404, None),
        "/api/v1/datasets/%2e%2e/records": (404, None),
    }
    parts = urlsplit(live_server_url)
    for target, (status, location) in expected.items():
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request("POST", target, body=b"{}")  # sent as it is, `..` included
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        assert (response.status, response.getheader("Location")) == (status, location), target
