"""Requests through the API: submit, approve, reject, withdraw, revoke, by the right side only;
what both sides see of a decision (the grant's validity and fields, a revocation's reason)."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from apps.common import clock
from apps.sharing.models import DataRequest
from tests.api.conftest import app_client

CODE = "GA-RK-001"
BODY = {
    "dataset": CODE,
    "fields": ["address"],
    "purpose": "低保核查",
    "legal_basis": "《社会救助暂行办法》",
    "valid_until": (clock.today() + dt.timedelta(days=365)).isoformat(),
}


def _in_days(days: int) -> str:
    return (clock.today() + dt.timedelta(days=days)).isoformat()


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
        f"/api/v1/requests/{submitted}/approve/", {"valid_until": _in_days(200)}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved" and response.json()["grant"]
    again = client.post(f"/api/v1/requests/{submitted}/approve/", {}, format="json")
    assert again.status_code == 409


def test_an_approval_takes_a_row_filter_and_stricter_masks_as_the_admin_does(api_world, submitted):
    from apps.sharing.models import Grant

    client = _officer(api_world.base.provider_officer)
    url = f"/api/v1/requests/{submitted}/approve/"
    hidden = client.post(url, {"row_filter": {"religion": "x"}}, format="json")
    assert hidden.status_code == 400 and "religion is not" in str(hidden.json()["errors"])
    body = {"row_filter": {"district": "天河区"}, "masks": {"address": "redact"}}
    response = client.post(url, body, format="json")
    assert response.status_code == 200, response.content
    grant = Grant.objects.get(pk=response.json()["grant"])
    assert grant.row_filter == {"district": "天河区"}
    assert grant.items.get().mask_override == "redact"


@pytest.mark.parametrize("path", ["approve/", "reject/", "withdraw/"])
def test_a_member_an_action_does_not_take_is_a_400_not_ignored(api_world, submitted, path):
    client = _officer(api_world.base.provider_officer)
    if path == "withdraw/":
        client = api_world.clients["no_grant"]
    body = {"bogus": 1} if path == "approve/" else {"reason": "x", "bogus": 1}
    response = client.post(f"/api/v1/requests/{submitted}/{path}", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"bogus": ["This endpoint takes no “bogus”."]}


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


def test_read_scope_alone_cannot_submit_and_is_told_the_scope_submitting_needs(api_world):
    client = app_client(api_world.base.outsider, scopes="read")
    response = client.post("/api/v1/requests/", BODY, format="json")
    assert response.status_code == 403
    assert response.json()["detail"].startswith("Submitting requests")
    assert "“requests” scope" in response.json()["detail"]


def test_requests_scope_alone_submits_then_follows_and_finds_datasets(api_world):
    client = app_client(api_world.base.outsider, scopes="requests")
    assert client.get("/api/v1/catalog/").status_code == 200
    assert client.get(f"/api/v1/catalog/{CODE}/").json()["my_access"]["fields"]
    assert client.get("/api/v1/departments/").status_code == 200
    created = client.post("/api/v1/requests/", BODY, format="json")
    assert created.status_code == 201
    listed = client.get("/api/v1/requests/")
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()] == [created.json()["id"]]
    detail = client.get(f"/api/v1/requests/{created.json()['id']}/")
    assert detail.status_code == 200 and detail.json()["status"] == "submitted"


def test_an_application_missing_the_scope_is_told_which_it_needs(api_world):
    requests_only = app_client(api_world.base.consumer, scopes="requests")
    records = requests_only.get(f"/api/v1/datasets/{CODE}/records/", HTTP_X_PURPOSE="核查")
    assert records.status_code == 403
    assert "“read” scope" in records.json()["detail"]
    no_scope = app_client(api_world.base.consumer, scopes="")
    for path in ["/api/v1/catalog/", "/api/v1/requests/", "/api/v1/departments/"]:
        response = no_scope.get(path)
        assert response.status_code == 403, path
        assert "“read”, “requests”" in response.json()["detail"], path
        assert "member" not in response.json()["detail"]


def test_an_auditor_is_told_requests_are_followed_by_the_departments_concerned(api_world):
    for path in ["/api/v1/requests/", f"/api/v1/requests/{api_world.request_id}/"]:
        response = api_world.clients["auditor"].get(path)
        assert response.status_code == 403
        detail = response.json()["detail"]
        assert "audit log" in detail and "read records" not in detail


def test_session_calls_need_csrf(api_world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(api_world.base.consumer_officer)
    assert client.get("/api/v1/requests/").status_code == 200
    assert client.post("/api/v1/requests/", BODY, format="json").status_code == 403


# --- What both sides see of a decision -------------------------------------------------------


def test_both_sides_see_why_and_when_a_grant_was_revoked(api_world):
    path = f"/api/v1/requests/{api_world.request_id}/"
    before = api_world.clients["granted"].get(path).json()
    assert (before["revoked_at"], before["revocation_reason"]) == (None, "")
    officer = _officer(api_world.base.provider_officer)
    revoked = officer.post(f"{path}revoke/", {"reason": "用途超范围"}, format="json")
    assert revoked.status_code == 200
    for role in ["granted", "owner"]:
        body = api_world.clients[role].get(path).json()
        assert body["status"] == "revoked"
        assert body["revocation_reason"] == "用途超范围"
        assert body["revoked_at"] and body["revoked_at"] > body["decided_at"]
        # The approval's own attributes keep their meaning.
        assert (body["decided_at"], body["decision_reason"]) == (
            before["decided_at"],
            before["decision_reason"],
        )


def test_a_shortened_partial_grant_shows_its_own_end_and_fields(api_world, submitted):
    from apps.sharing.services import request_approve

    client = api_world.clients["no_grant"]
    body = client.get(f"/api/v1/requests/{submitted}/").json()
    assert (body["grant"], body["granted_until"], body["granted_fields"]) == (None, None, {})
    request_approve(
        request=DataRequest.objects.get(pk=submitted),
        by=api_world.base.provider_officer,
        valid_until=clock.today() + dt.timedelta(days=20),
        masks={"address": "redact"},
    )
    body = client.get(f"/api/v1/requests/{submitted}/").json()
    assert body["valid_until"] == BODY["valid_until"]  # as asked
    assert body["granted_until"] == _in_days(20)  # as granted
    assert body["granted_fields"] == {"address": "redact"}  # the stricter mask imposed


def test_a_subset_approval_lists_only_the_granted_fields(api_world):
    client = api_world.clients["no_grant"]
    body = {**BODY, "fields": ["mobile", "address", "name"]}
    created = client.post("/api/v1/requests/", body, format="json").json()["id"]
    officer = _officer(api_world.base.provider_officer)
    approved = officer.post(
        f"/api/v1/requests/{created}/approve/",
        {"fields": ["name", "mobile"], "valid_until": _in_days(10)},
        format="json",
    ).json()
    assert approved["fields"] == ["name", "mobile", "address"]  # as requested, in field order
    assert approved["granted_fields"] == {"name": "name", "mobile": "mobile"}
    assert approved["granted_until"] == _in_days(10)


# --- Filtering the list ------------------------------------------------------------------------


def test_the_list_is_filtered_by_status(api_world, submitted):
    client = api_world.clients["no_grant"]
    withdrawn = client.post(f"/api/v1/requests/{submitted}/withdraw/", {}, format="json")
    assert withdrawn.status_code == 200
    again = client.post("/api/v1/requests/", BODY, format="json").json()["id"]
    assert [r["id"] for r in client.get("/api/v1/requests/?status=withdrawn").json()] == [submitted]
    assert [r["id"] for r in client.get("/api/v1/requests/?status=submitted").json()] == [again]
    assert client.get("/api/v1/requests/?status=revoked").json() == []
    assert len(client.get("/api/v1/requests/?status=").json()) == 2  # empty: no filter


def test_an_unknown_status_is_a_400_naming_the_parameter_and_the_allowed_ones(api_world):
    # The same problem as the objections list's (tests/objections/test_api.py).
    response = api_world.clients["granted"].get("/api/v1/requests/?status=bogus")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem == {
        "type": "https://govdata.example/problems/invalid",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request is invalid.",
        "errors": {
            "status": [
                "Unknown value of status; use one of: "
                "submitted, approved, rejected, withdrawn, revoked, expired."
            ]
        },
        "request_id": response["X-Request-Id"],
    }


@pytest.mark.parametrize("query", ["provider=GD-WJ", "bogus=1", "dataset=GA-RK-001"])
def test_a_filter_the_list_does_not_take_is_a_400_not_every_request(api_world, submitted, query):
    # Ignored, `provider` would answer every request as if it had been applied.
    response = api_world.clients["no_grant"].get(f"/api/v1/requests/?{query}")
    assert response.status_code == 400
    name = query.split("=")[0]
    assert response.json()["errors"] == {name: [f"This endpoint takes no “{name}”."]}


def test_a_status_given_twice_is_a_400_not_the_last_one_winning(api_world, submitted):
    response = api_world.clients["no_grant"].get(
        "/api/v1/requests/?status=approved&status=submitted"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {"status": ["“status” is given more than once."]}


def test_listing_takes_a_fixed_number_of_queries_whatever_the_number_of_requests(
    api_world, django_assert_num_queries
):
    # The token; the requests with their datasets, departments and grants; their requested
    # fields; their grants' fields.
    client = api_world.clients["owner"]  # the provider sees every department's request
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/requests/").json()) == 2
    for department in [api_world.base.outsider, api_world.base.consumer]:
        submitter = app_client(department, scopes="requests")
        assert submitter.post("/api/v1/requests/", BODY, format="json").status_code == 201
    with django_assert_num_queries(4):
        assert len(client.get("/api/v1/requests/").json()) == 4


# --- Submissions refused ------------------------------------------------------------------------


def test_a_second_pending_request_is_a_409_naming_the_pending_one(api_world, submitted):
    client = api_world.clients["no_grant"]
    response = client.post("/api/v1/requests/", {**BODY, "fields": ["mobile"]}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["pending_request"] == submitted
    assert f"#{submitted}" in response.json()["detail"]
    assert response.json()["request_id"] == response["X-Request-Id"]
    assert DataRequest.objects.filter(consumer=api_world.base.outsider).count() == 1


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("valid_until", "2099-12-31"),
        ("purpose", "核" * 100_000),
        ("legal_basis", "《条例》" * 1000),
    ],
)
def test_extreme_values_are_a_400_naming_the_member(api_world, member, value):
    client = api_world.clients["no_grant"]
    response = client.post("/api/v1/requests/", {**BODY, member: value}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == [member]
    assert not DataRequest.objects.filter(consumer=api_world.base.outsider).exists()


# --- Permission before state --------------------------------------------------------------------


def test_the_requester_may_never_revoke_whatever_the_state(api_world, submitted):
    client = api_world.clients["no_grant"]
    url = f"/api/v1/requests/{submitted}/revoke/"
    pending = client.post(url, {"reason": "不需要了"}, format="json")
    assert pending.status_code == 403
    assert client.post(url, {}, format="json").status_code == 403  # before the body, too
    officer = _officer(api_world.base.provider_officer)
    assert officer.post(url, {"reason": "尚未批准"}, format="json").status_code == 409
    approved = officer.post(f"/api/v1/requests/{submitted}/approve/", {}, format="json")
    assert approved.status_code == 200
    assert client.post(url, {"reason": "不需要了"}, format="json").status_code == 403
    session = _officer(api_world.base.outsider_officer)
    assert session.post(url, {"reason": "不需要了"}, format="json").status_code == 403


def test_the_provider_may_never_withdraw_nor_the_requester_decide(api_world, submitted):
    provider_app = app_client(api_world.base.provider, scopes="requests")
    withdraw = provider_app.post(f"/api/v1/requests/{submitted}/withdraw/", {}, format="json")
    assert withdraw.status_code == 403
    assert "Only data officers or applications of" in withdraw.json()["detail"]
    requester = _officer(api_world.base.outsider_officer)
    for action in ["approve", "reject"]:
        path = f"/api/v1/requests/{submitted}/{action}/"
        assert requester.post(path, {}, format="json").status_code == 403
    decided = f"/api/v1/requests/{api_world.request_id}/approve/"
    assert _officer(api_world.base.consumer_officer).post(decided, {}).status_code == 403
