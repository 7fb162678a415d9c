"""The per-application throttle: a sliding window in constant space, with Retry-After."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache

from apps.api.throttling import ApplicationRateThrottle
from apps.common import clock


@pytest.fixture
def two_per_minute():
    from rest_framework.settings import api_settings

    cache.clear()
    ApplicationRateThrottle.THROTTLE_RATES = {"application": "2/min"}
    yield
    ApplicationRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    cache.clear()


def _codes(client, n: int) -> list[int]:
    return [client.get("/api/v1/departments/").status_code for _ in range(n)]


def test_requests_past_the_rate_get_429_with_retry_after(api_world, two_per_minute):
    client = api_world.clients["granted"]
    start = dt.datetime(2026, 11, 2, 10, 0, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        assert _codes(client, 3) == [200, 200, 429]
        response = client.get("/api/v1/departments/")
    assert 60 <= int(response["Retry-After"]) <= 120
    assert response["Content-Type"] == "application/problem+json"


def test_the_last_minutes_requests_still_count_when_a_new_minute_starts(api_world, two_per_minute):
    client = api_world.clients["granted"]
    start = dt.datetime(2026, 11, 2, 10, 0, 50, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        assert _codes(client, 2) == [200, 200]
    # 20 s later, in the next fixed minute: the two are 20 s old and still within the window.
    with time_machine.travel(start + dt.timedelta(seconds=20), tick=False):
        response = client.get("/api/v1/departments/")
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
    # Half of the previous minute has slid out: one request fits again, not two.
    with time_machine.travel(start + dt.timedelta(seconds=40), tick=False):
        assert _codes(client, 2) == [200, 429]
    # Two minutes on, nothing counts any more.
    with time_machine.travel(start + dt.timedelta(seconds=180), tick=False):
        assert _codes(client, 2) == [200, 200]


def test_each_application_has_its_own_count(api_world, two_per_minute):
    with time_machine.travel(clock.now(), tick=False):
        assert _codes(api_world.clients["granted"], 3) == [200, 200, 429]
        assert _codes(api_world.clients["owner"], 2) == [200, 200]


def test_the_cache_entry_stays_three_numbers_whatever_the_count(api_world, two_per_minute):
    ApplicationRateThrottle.THROTTLE_RATES = {"application": "100000/min"}
    client = api_world.clients["granted"]
    with time_machine.travel(clock.now(), tick=False):
        _codes(client, 50)
    from apps.api.models import AgencyApplication

    agency_pk = AgencyApplication.objects.get(department=api_world.base.consumer).pk
    window, current, previous = cache.get(f"throttle_application_app:{agency_pk}")
    assert current == 50 and previous == 0
