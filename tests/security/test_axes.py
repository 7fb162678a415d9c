"""Brute force on the admin login locks the username at that address (django-axes); the OAuth2
token endpoint that agency applications use is never locked by it."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import RequestFactory
from django.urls import reverse
from oauth2_provider.models import Application

from apps.common.clock import now
from apps.common.otp import otp_device_ensure
from apps.common.security import client_ip
from tests.factories import UserFactory
from tests.security.conftest import admin_login, totp_now

APP_SECRET = "agency-secret-0123456789"


def _fail(client, username: str, times: int, ip: str = "192.0.2.10") -> list[int]:
    return [
        admin_login(client, username, password="wrong", ip=ip).status_code for _ in range(times)
    ]


def test_the_limit_th_failure_locks_the_username_at_that_address(world, axes_on, client):
    statuses = _fail(client, world.provider_officer.username, 3)
    assert statuses == [200, 200, 429]
    locked = admin_login(client, world.provider_officer.username)
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_lockout_page_is_our_translated_template(world, axes_on, client):
    _fail(client, world.provider_officer.username, 3)
    response = admin_login(client, world.provider_officer.username)
    assert "common/lockout.html" in [template.name for template in response.templates]
    assert response.status_code == 429


def test_same_username_from_another_address_is_not_locked(world, axes_on, client):
    _fail(client, world.provider_officer.username, 3, ip="192.0.2.10")
    response = admin_login(client, world.provider_officer.username, ip="198.51.100.7")
    assert response.status_code == 302


def test_other_usernames_from_the_same_address_are_not_locked(world, axes_on, client):
    _fail(client, world.provider_officer.username, 3)
    assert admin_login(client, world.consumer_officer.username).status_code == 302


def test_lockout_ends_after_the_cool_off(world, axes_on, client):
    start = now()
    with time_machine.travel(start, tick=False) as traveller:
        _fail(client, world.provider_officer.username, 3)
        assert admin_login(client, world.provider_officer.username).status_code == 429
        traveller.shift(dt.timedelta(minutes=31))
        assert admin_login(client, world.provider_officer.username).status_code == 302


def test_a_success_resets_the_failure_count(world, axes_on, client):
    _fail(client, world.provider_officer.username, 2)
    assert admin_login(client, world.provider_officer.username).status_code == 302
    client.logout()
    assert _fail(client, world.provider_officer.username, 2) == [200, 200]


def test_wrong_one_time_codes_count_as_failures(world, axes_on, otp_on, client):
    device_uri = otp_device_ensure(world.provider_officer)
    assert device_uri
    statuses = [
        admin_login(client, world.provider_officer.username, otp_token="000000").status_code
        for _ in range(3)
    ]
    assert statuses[-1] == 429
    device = world.provider_officer.totpdevice_set.get()
    response = admin_login(client, world.provider_officer.username, otp_token=totp_now(device))
    assert response.status_code == 429


@pytest.fixture
def agency_app(db):
    return Application.objects.create(
        name="health-code",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=APP_SECRET,
        user=UserFactory(username="app-owner"),
    )


def _token(client, app: Application, secret: str, ip: str = "192.0.2.10"):
    return client.post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": app.client_id, "client_secret": secret},
        REMOTE_ADDR=ip,
    )


def test_token_endpoint_is_not_locked_by_failed_client_secrets(agency_app, axes_on, client):
    assert [_token(client, agency_app, "wrong").status_code for _ in range(6)] == [401] * 6
    response = _token(client, agency_app, APP_SECRET)
    assert response.status_code == 200
    assert response.json()["access_token"]


def test_token_endpoint_works_from_an_address_locked_on_the_admin(
    world, agency_app, axes_on, client
):
    _fail(client, world.provider_officer.username, 3)
    assert admin_login(client, world.provider_officer.username).status_code == 429
    assert _token(client, agency_app, APP_SECRET).status_code == 200


def test_client_ip_without_trusted_proxies_is_the_peer_address(settings):
    settings.GOVDATA_TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.5"


def test_client_ip_behind_one_proxy_ignores_addresses_the_client_wrote(settings):
    settings.GOVDATA_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9"
    )
    assert client_ip(request) == "203.0.113.9"


def test_client_ip_behind_two_proxies_and_malformed_headers(settings):
    settings.GOVDATA_TRUSTED_PROXY_COUNT = 2
    factory = RequestFactory()
    two = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.1")
    assert client_ip(two) == "203.0.113.9"
    short = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert client_ip(short) == "10.0.0.5"
    garbage = factory.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="nonsense, 10.0.0.1")
    assert client_ip(garbage) == "10.0.0.5"


def test_lockout_counts_the_forwarded_client_address_not_the_proxy(
    world, axes_on, client, settings
):
    settings.GOVDATA_TRUSTED_PROXY_COUNT = 1
    for _ in range(3):
        client.post(
            reverse("admin:login"),
            {"username": world.provider_officer.username, "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    other_client = client.post(
        reverse("admin:login"),
        {"username": world.provider_officer.username, "password": "pw-Secret-123"},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.20",
    )
    assert other_client.status_code == 302
