"""apps.common.middleware: request ids, and the trailing-slash redirect that keeps the method."""

from __future__ import annotations

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
