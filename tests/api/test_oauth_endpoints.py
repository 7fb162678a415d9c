"""/oauth/: only the token endpoints are mounted. OAuth clients are agency applications that
officers register in the admin (and the audit log records); nobody registers or manages clients
through django-oauth-toolkit's own pages."""

from __future__ import annotations

import pytest
from django.test import Client
from oauth2_provider.models import AccessToken, Application

from apps.api.services import application_create

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
