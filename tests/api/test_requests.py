"""Requests through the API: submit, approve, reject, withdraw, revoke, by the right side only."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.api.conftest import app_client

CODE = "GA-RK-001"
BODY = {
    "dataset": CODE,
    "fields": ["address"],
    "purpose": "低保核查",
    "legal_basis": "《社会救助暂行办法》",
    "valid_until": "2099-01-01",
}


def _officer(user) -> APIClient:
    client = APIClient(enforce_csrf_checks=False)
    client.force_login(user)
    return client


@pytest.fixture
def submitted(api_world):
    response = api_world.clients["no_grant"].post("/api/v1/requests/", BODY, format="json")
    assert response.status_code == 201
    return response.json()["id"]


def test_provider_officer_approves_a_subset_in_time(api_world, submitted):
    client = _officer(api_world.base.provider_officer)
    response = client.post(
        f"/api/v1/requests/{submitted}/approve/", {"valid_until": "2098-01-01"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved" and response.json()["grant"]
    again = client.post(f"/api/v1/requests/{submitted}/approve/", {}, format="json")
    assert again.status_code == 409


def test_applications_cannot_decide(api_world, submitted):
    response = api_world.clients["owner"].post(
        f"/api/v1/requests/{submitted}/approve/", {}, format="json"
    )
    assert response.status_code == 403


def test_reject_needs_a_reason(api_world, submitted):
    client = _officer(api_world.base.provider_officer)
    assert (
        client.post(f"/api/v1/requests/{submitted}/reject/", {}, format="json").status_code == 400
    )
    response = client.post(
        f"/api/v1/requests/{submitted}/reject/", {"reason": "无依据"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "rejected"


def test_requester_withdraws_but_provider_cannot(api_world, submitted):
    provider = _officer(api_world.base.provider_officer)
    assert (
        provider.post(f"/api/v1/requests/{submitted}/withdraw/", {}, format="json").status_code
        == 403
    )
    response = api_world.clients["no_grant"].post(
        f"/api/v1/requests/{submitted}/withdraw/", {}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"


def test_provider_revokes_a_grant_with_reason(api_world):
    client = _officer(api_world.base.provider_officer)
    url = f"/api/v1/requests/{api_world.request_id}/revoke/"
    assert client.post(url, {}, format="json").status_code == 400
    response = client.post(url, {"reason": "用途超范围"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    records = api_world.clients["granted"].get(
        f"/api/v1/datasets/{CODE}/records/", HTTP_X_PURPOSE="核查"
    )
    assert list(records.json()["results"][0]) == ["gender", "district"]


def test_read_scope_alone_cannot_submit(api_world):
    client = app_client(api_world.base.outsider, scopes="read")
    assert client.post("/api/v1/requests/", BODY, format="json").status_code == 403


def test_session_calls_need_csrf(api_world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(api_world.base.consumer_officer)
    assert client.get("/api/v1/requests/").status_code == 200
    assert client.post("/api/v1/requests/", BODY, format="json").status_code == 403
