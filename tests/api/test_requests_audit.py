"""Decisions taken through the API are attributed in the audit log like record reads: the acting
application (id and name) or officer, the call's X-Request-Id and the client's address."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from apps.api.models import AgencyApplication
from apps.audit.models import AuditEvent
from apps.common import clock

CODE = "GA-RK-001"
CLIENT_IP = "203.0.113.7"


def _body() -> dict:
    return {
        "dataset": CODE,
        "fields": ["address"],
        "purpose": "低保核查",
        "legal_basis": "《社会救助暂行办法》",
        "valid_until": (clock.today() + dt.timedelta(days=90)).isoformat(),
    }


def _event(action: str, target: str) -> AuditEvent:
    return AuditEvent.objects.get(action=action, body__contains=f'"target":"{target}"')


def _call(request_id: str) -> dict:
    return {"HTTP_X_REQUEST_ID": request_id, "REMOTE_ADDR": CLIENT_IP}


def _officer(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def test_an_applications_submission_and_withdrawal_name_it_and_the_call(api_world):
    client = api_world.clients["no_grant"]  # MZ's application
    agency = AgencyApplication.objects.select_related("application").get(
        department=api_world.base.outsider
    )
    created = client.post("/api/v1/requests/", _body(), format="json", **_call("req-submit-7"))
    assert created.status_code == 201
    pk = created.json()["id"]
    withdrawn = client.post(
        f"/api/v1/requests/{pk}/withdraw/", {}, format="json", **_call("req-withdraw-7")
    )
    assert withdrawn.status_code == 200
    calls = [("request.submit", "req-submit-7"), ("request.withdraw", "req-withdraw-7")]
    for action, request_id in calls:
        event = _event(action, f"request:{pk}")
        assert event.user_id is None
        assert event.application_id == agency.application_id
        assert event.application_name == agency.application.name == "app-MZ"
        assert (event.request_id, event.client_ip) == (request_id, CLIENT_IP)


@pytest.mark.parametrize(
    ("action", "path", "body", "event_action", "target"),
    [
        ("reject", "reject/", {"reason": "无依据"}, "request.reject", "request"),
        ("approve", "approve/", {}, "request.approve", "request"),
    ],
)
def test_an_officers_decision_names_the_officer_and_the_call(
    api_world, action, path, body, event_action, target
):
    created = api_world.clients["no_grant"].post("/api/v1/requests/", _body(), format="json")
    pk = created.json()["id"]
    officer = _officer(api_world.base.provider_officer)
    response = officer.post(
        f"/api/v1/requests/{pk}/{path}", body, format="json", **_call(f"req-{action}")
    )
    assert response.status_code == 200, response.content
    event = _event(event_action, f"{target}:{pk}")
    assert event.user_id == api_world.base.provider_officer.pk
    assert (event.application_id, event.application_name) == (None, "")
    assert (event.request_id, event.client_ip) == (f"req-{action}", CLIENT_IP)


def test_a_revocation_through_the_api_names_the_officer_and_the_call(api_world):
    officer = _officer(api_world.base.provider_officer)
    response = officer.post(
        f"/api/v1/requests/{api_world.request_id}/revoke/",
        {"reason": "用途超范围"},
        format="json",
        **_call("req-revoke"),
    )
    assert response.status_code == 200
    grant = response.json()["grant"]
    event = _event("grant.revoke", f"grant:{grant}")
    assert event.user_id == api_world.base.provider_officer.pk
    assert (event.request_id, event.client_ip) == ("req-revoke", CLIENT_IP)
    assert event.details["reason"] == "用途超范围"


def test_behind_our_proxies_the_client_recorded_is_the_one_they_forwarded(api_world, settings):
    settings.GOVDATA_TRUSTED_PROXY_COUNT = 1
    client = api_world.clients["no_grant"]
    call = {
        "HTTP_X_REQUEST_ID": "req-proxied",
        "REMOTE_ADDR": "10.0.0.2",  # the proxy
        "HTTP_X_FORWARDED_FOR": "198.51.100.1, 203.0.113.9",  # a forged entry, then the client
    }
    created = client.post("/api/v1/requests/", _body(), format="json", **call)
    event = _event("request.submit", f"request:{created.json()['id']}")
    assert event.client_ip == "203.0.113.9"
    client.get(f"/api/v1/datasets/{CODE}/records/", HTTP_X_PURPOSE="低保核查", **call)
    read = AuditEvent.objects.get(action="list", body__contains='"request_id":"req-proxied"')
    assert read.client_ip == "203.0.113.9"
