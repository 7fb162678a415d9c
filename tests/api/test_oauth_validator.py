"""The token endpoint against a concurrent secret rotation or disable, each on its own database
connection (thread) on the real PostgreSQL: after the rotation (or disable) returns, no token
obtained with the old secret works, whichever of the two takes the client row's lock first."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import close_old_connections, connection, transaction
from django.test import Client
from oauth2_provider.models import AccessToken

from apps.api.models import AgencyApplication
from apps.api.oauth_validator import AgencyOAuth2Validator
from apps.api.services import application_create, application_rotate_secret, application_set_active

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 20  # seconds; far more than any step needs, so a hang fails instead of blocking the run


class Worker(threading.Thread):
    """Runs `call` on a connection of its own; keeps its result or exception."""

    def __init__(self, call: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.call, self.result, self.error = call, None, None

    def run(self) -> None:
        try:
            self.result = self.call()
        except BaseException as exc:  # noqa: BLE001 - the outcome is what the test checks
            self.error = exc
        finally:
            connection.close()

    def outcome(self):
        self.join(WAIT)
        assert not self.is_alive(), "worker still running"
        if self.error is not None:
            raise self.error
        return self.result


def _wait_until_blocked_or_done(worker: Worker) -> None:
    """Until `worker` waits for a row lock held by another session, or has finished."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if not worker.is_alive():
            return
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.02)
    raise AssertionError("the worker neither finished nor waited for a lock")


def _token_request(client_id: str, secret: str):
    return Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


def _works(token: str) -> bool:
    response = Client().get("/api/v1/departments/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code in (200, 401), response.content
    return response.status_code == 200


def _fresh(agency: AgencyApplication) -> AgencyApplication:
    return AgencyApplication.objects.select_related("application", "department").get(pk=agency.pk)


def _held_open(change: Callable[[], object], done: threading.Event, release: threading.Event):
    """`change` in a transaction that stays open (its locks held) until `release`."""

    def run():
        with transaction.atomic():
            result = change()
            done.set()
            assert release.wait(WAIT)
        return result

    return run


@pytest.fixture
def agency(world):
    agency, secret = application_create(department=world.consumer, name="health-code")
    agency.raw_secret = secret
    return agency


def _refused_like_a_wrong_secret(agency, response) -> None:
    wrong = _token_request(agency.application.client_id, "not-the-secret")
    assert (response.status_code, response.content) == (wrong.status_code, wrong.content)
    for header in ("Content-Type", "Cache-Control", "WWW-Authenticate"):
        assert response[header] == wrong[header]
    assert response.json() == {"error": "invalid_client"}
    assert not AccessToken.objects.filter(application=agency.application).exists()


@pytest.mark.parametrize("attempt", range(3))
def test_a_token_request_checked_against_the_old_secret_during_a_rotation_is_refused(
    agency, attempt
):
    rotated, release = threading.Event(), threading.Event()
    rotation = Worker(
        _held_open(lambda: application_rotate_secret(agency=_fresh(agency)), rotated, release)
    )
    rotation.start()
    assert rotated.wait(WAIT)
    # The rotation has not committed: the request authenticates against the old secret, then
    # (with the fix) waits for the client row's lock until the rotation commits.
    request = Worker(lambda: _token_request(agency.application.client_id, agency.raw_secret))
    request.start()
    _wait_until_blocked_or_done(request)
    release.set()
    new_secret = rotation.outcome()
    response = request.outcome()
    close_old_connections()
    if response.status_code == 200:
        assert not _works(response.json()["access_token"]), "the old secret's token still works"
    _refused_like_a_wrong_secret(agency, response)
    assert _works(_token_request(agency.application.client_id, new_secret).json()["access_token"])


@pytest.mark.parametrize("attempt", range(3))
def test_a_token_stored_just_before_a_rotation_is_revoked_by_it(agency, monkeypatch, attempt):
    locked, release = threading.Event(), threading.Event()
    store = AgencyOAuth2Validator._save_bearer_token

    def store_slowly(self, token, request, *args, **kwargs):
        locked.set()  # the client row is locked by this request's transaction from here on
        assert release.wait(WAIT)
        return store(self, token, request, *args, **kwargs)

    monkeypatch.setattr(AgencyOAuth2Validator, "_save_bearer_token", store_slowly)
    request = Worker(lambda: _token_request(agency.application.client_id, agency.raw_secret))
    request.start()
    assert locked.wait(WAIT)
    rotation = Worker(lambda: application_rotate_secret(agency=_fresh(agency)))
    rotation.start()
    _wait_until_blocked_or_done(rotation)
    release.set()
    response = request.outcome()
    rotation.outcome()
    close_old_connections()
    assert response.status_code == 200  # issued before the rotation, then revoked by it
    assert not _works(response.json()["access_token"])
    assert not AccessToken.objects.filter(application=agency.application).exists()


def test_a_token_request_answered_while_the_application_is_disabled_gets_no_token(agency):
    disabled, release = threading.Event(), threading.Event()
    disable = Worker(
        _held_open(
            lambda: application_set_active(agency=_fresh(agency), is_active=False),
            disabled,
            release,
        )
    )
    disable.start()
    assert disabled.wait(WAIT)
    request = Worker(lambda: _token_request(agency.application.client_id, agency.raw_secret))
    request.start()
    _wait_until_blocked_or_done(request)
    release.set()
    disable.outcome()
    response = request.outcome()
    close_old_connections()
    _refused_like_a_wrong_secret(agency, response)
    application_set_active(agency=_fresh(agency), is_active=True)
    assert not AccessToken.objects.filter(application=agency.application).exists()
