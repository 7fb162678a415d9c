"""The failed sign-in records page (django-axes) cleans up what no longer counts towards a
lockout, through the platform admin's real admin, under the project's axes settings."""

from __future__ import annotations

import datetime as dt

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.common.clock import now
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:axes_accessattempt_changelist"


@pytest.fixture
def axes_as_deployed(settings):
    settings.AXES_ENABLED = True
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
    settings.AXES_USE_ATTEMPT_EXPIRATION = False


@pytest.fixture
def signed_in(client, axes_as_deployed):
    """The platform admin's client, signed in before any record exists: axes itself deletes
    every expired record at each sign-in, which would leave the action nothing to do."""
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _attempt(username: str, minutes_ago: int, failures: int = 5) -> AccessAttempt:
    attempt = AccessAttempt.objects.create(
        username=username, ip_address="192.0.2.10", user_agent="test", http_accept="*/*",
        path_info="/admin/login/", get_data="", post_data="", failures_since_start=failures,
    )  # fmt: skip
    # attempt_time is auto_now_add: the last failure's time is set afterwards.
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=now() - dt.timedelta(minutes=minutes_ago)
    )
    return attempt


def _clean_up(client, attempts):
    return client.post(
        reverse(CHANGELIST),
        {"action": "cleanup_expired_attempts", "_selected_action": [a.pk for a in attempts]},
    )


def test_clean_up_deletes_selected_attempts_past_the_cool_off_and_keeps_live_lockouts(signed_in):
    stale = _attempt("officer-old", minutes_ago=31)
    live = _attempt("officer-locked", minutes_ago=29)

    response = _clean_up(signed_in, [stale, live])

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["officer-locked"]
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Deleted 1 expired failed sign-in record.",
        "1 selected record still counts towards a lockout and was kept.",
    ]


def test_clean_up_leaves_unselected_expired_attempts_alone(signed_in):
    selected = _attempt("officer-a", minutes_ago=60)
    other = _attempt("officer-b", minutes_ago=60)

    assert _clean_up(signed_in, [selected]).status_code == 302

    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [other.pk]


def test_with_attempt_expiration_the_clean_up_follows_each_attempts_expiry(signed_in, settings):
    settings.AXES_USE_ATTEMPT_EXPIRATION = True
    expired, current = _attempt("officer-a", minutes_ago=5), _attempt("officer-b", minutes_ago=90)
    unselected = _attempt("officer-c", minutes_ago=5)
    for attempt, minutes in ((expired, -1), (current, 10), (unselected, -1)):
        AccessAttemptExpiration.objects.create(
            access_attempt=attempt, expires_at=now() + dt.timedelta(minutes=minutes)
        )

    response = _clean_up(signed_in, [expired, current])

    assert response.status_code == 302
    assert sorted(AccessAttempt.objects.values_list("pk", flat=True)) == [
        current.pk,
        unselected.pk,
    ]
    # The expiry row deleted with its record is not counted as a record.
    assert str(next(iter(get_messages(response.wsgi_request)))) == (
        "Deleted 1 expired failed sign-in record."
    )


def test_the_platform_admin_sees_the_failed_sign_in_records_with_the_action(signed_in):
    _attempt("officer-a", minutes_ago=5)
    page = signed_in.get(reverse(CHANGELIST)).content.decode()
    assert "officer-a" in page
    assert '<option value="cleanup_expired_attempts">Clean up expired attempts</option>' in page
