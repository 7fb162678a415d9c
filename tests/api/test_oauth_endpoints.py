"""/oauth/: only the token endpoints are mounted. OAuth clients are agency applications that
officers register in the admin (and the audit log records); nobody registers or manages clients
through django-oauth-toolkit's own pages. A token holds its application's registered scopes
(apps.api.oauth_validator); a disabled application is a refused client."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from apps.api.models import AgencyApplication
from apps.api.services import application_create
from apps.common import clock

pytestmark = pytest.mark.django_db

NOT_MOUNTED = [
    "/oauth/applications/",
    "/oauth/applications/register/",
    "/oauth/applications/1/",
    "/oauth/applications/1/update/",
    "/oauth/applications/1/delete/",
    "/oauth/authorized_tokens/",
    "/oauth/authorize/",
    "/oauth/introspect/",
    "/oauth/register/",
    "/oauth/device-authorization/",
    "/oauth/device/",
    "/oauth/userinfo/",
    "/oauth/.well-known/oauth-authorization-server",
    "/oauth/.well-known/openid-configuration",
]


@pytest.fixture
def officer_client(world) -> Client:
    client = Client()
    client.force_login(world.consumer_officer)
    return client


@pytest.mark.parametrize("path", NOT_MOUNTED)
def test_client_registration_and_management_pages_are_not_there(officer_client, path):
    assert officer_client.get(path).status_code == 404


def test_an_officer_cannot_register_an_oauth_client(officer_client):
    before = Application.objects.count()
    response = officer_client.post(
        "/oauth/applications/register/",
        {
            "name": "probe",
            "client_type": "confidential",
            "authorization_grant_type": "client-credentials",
        },
    )
    assert response.status_code == 404
    assert Application.objects.count() == before


def _token(client: Client, client_id: str, secret: str) -> str:
    response = client.post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def test_agency_applications_still_get_and_revoke_tokens(world):
    agency, secret = application_create(department=world.consumer, name="health-code")
    client_id = agency.application.client_id
    client = Client()
    token = _token(client, client_id, secret)
    assert (
        client.get("/api/v1/departments/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    )
    revoked = client.post(
        "/oauth/revoke_token/",
        {"token": token, "client_id": client_id, "client_secret": secret},
    )
    assert revoked.status_code == 200
    assert not AccessToken.objects.filter(application=agency.application).exists()
    assert (
        client.get("/api/v1/departments/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    )


def test_there_is_one_token_endpoint_the_contracts(client):
    assert (
        client.post("/api/v1/oauth/token/", {"grant_type": "client_credentials"}).status_code == 404
    )


def _ask(client: Client, client_id: str, secret: str, **extra: str):
    body = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    return client.post("/oauth/token/", {**body, **extra})


def test_a_disabled_application_is_refused_at_the_token_endpoint_like_a_wrong_secret(world):
    agency, secret = application_create(department=world.consumer, name="health-code")
    client_id = agency.application.client_id
    wrong = _ask(Client(), client_id, "not-the-secret")
    AgencyApplication.objects.filter(pk=agency.pk).update(is_active=False)
    refused = _ask(Client(), client_id, secret)
    assert refused.status_code == wrong.status_code == 401
    assert refused.json() == wrong.json() == {"error": "invalid_client"}
    assert refused["WWW-Authenticate"] == wrong["WWW-Authenticate"]
    assert not AccessToken.objects.filter(application=agency.application).exists()
    AgencyApplication.objects.filter(pk=agency.pk).update(is_active=True)
    assert _ask(Client(), client_id, secret).status_code == 200


def test_a_token_request_without_scope_gets_every_registered_scope(world):
    agency, secret = application_create(
        department=world.consumer, name="health-code", scopes="read requests"
    )
    client = Client()
    response = _ask(client, agency.application.client_id, secret)  # as the contract writes it
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == "read requests"
    submitted = client.post(
        "/api/v1/requests/",
        {
            "dataset": world.dataset.code,
            "fields": ["address"],
            "purpose": "低保核查",
            "legal_basis": "《社会救助暂行办法》",
            "valid_until": (clock.today() + dt.timedelta(days=365)).isoformat(),
        },
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}",
    )
    assert submitted.status_code == 201, submitted.content


def test_a_read_only_application_gets_a_read_token_without_scope(world):
    agency, secret = application_create(department=world.consumer, name="reader", scopes="read")
    response = _ask(Client(), agency.application.client_id, secret)
    assert response.status_code == 200 and response.json()["scope"] == "read"


@pytest.mark.parametrize("asked", ["read requests", "requests", "read admin", "admin"])
def test_a_scope_the_application_was_not_registered_with_is_invalid_scope(world, asked):
    agency, secret = application_create(department=world.consumer, name="reader", scopes="read")
    response = _ask(Client(), agency.application.client_id, secret, scope=asked)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert not AccessToken.objects.filter(application=agency.application).exists()


@pytest.mark.parametrize(
    ("asked", "granted"),
    [
        ("read read", "read"),
        ("requests read requests", "read requests"),
        ("requests", "requests"),
        ("read  requests", "read requests"),
        ("", "read requests"),
    ],
)
def test_a_token_holds_each_asked_scope_once(world, asked, granted):
    agency, secret = application_create(
        department=world.consumer, name="both", scopes="read requests"
    )
    response = _ask(Client(), agency.application.client_id, secret, scope=asked)
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == granted
    stored = AccessToken.objects.get(application=agency.application)
    assert stored.scope == granted


def test_after_a_rotation_the_old_secret_is_refused_and_the_new_one_works(world):
    from apps.api.services import application_rotate_secret

    agency, old = application_create(department=world.consumer, name="health-code")
    client = Client()
    before = _token(client, agency.application.client_id, old)
    new = application_rotate_secret(agency=agency)
    refused = _ask(client, agency.application.client_id, old)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    after = _token(client, agency.application.client_id, new)
    assert (
        client.get("/api/v1/departments/", HTTP_AUTHORIZATION=f"Bearer {before}").status_code == 401
    )
    assert (
        client.get("/api/v1/departments/", HTTP_AUTHORIZATION=f"Bearer {after}").status_code == 200
    )


def test_a_token_older_than_the_last_rotation_is_refused_on_use(world):
    agency, secret = application_create(department=world.consumer, name="health-code")
    client = Client()
    token = _token(client, agency.application.client_id, secret)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get("/api/v1/departments/", **bearer).status_code == 200
    # As if the rotation's delete had missed it: the token check compares the times itself.
    created = AccessToken.objects.get(application=agency.application).created
    rotated = AgencyApplication.objects.filter(pk=agency.pk)
    rotated.update(secret_rotated_at=created + dt.timedelta(microseconds=1))
    assert client.get("/api/v1/departments/", **bearer).status_code == 401
    rotated.update(secret_rotated_at=created)
    assert client.get("/api/v1/departments/", **bearer).status_code == 200
