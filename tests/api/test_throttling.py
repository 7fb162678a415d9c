"""The per-application throttle: a sliding window counted in Redis (shared by every worker, in
the minutes of the Redis server's clock), in the process when Redis is out of reach (in the
minutes of its own clock), with Retry-After."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.conf import settings as django_settings

from apps.api import throttling
from apps.api.models import AgencyApplication
from apps.api.throttling import ApplicationRateThrottle, throttle_reset
from apps.common import clock

START = dt.datetime(2026, 11, 2, 10, 0, 50, tzinfo=dt.UTC)


@pytest.fixture
def two_per_minute():
    from rest_framework.settings import api_settings

    throttle_reset()
    ApplicationRateThrottle.THROTTLE_RATES = {"application": "2/min"}
    yield
    ApplicationRateThrottle.THROTTLE_RATES = api_settings.DEFAULT_THROTTLE_RATES
    throttle_reset()


@pytest.fixture
def redis_unreachable(settings, monkeypatch):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    monkeypatch.setattr(throttling, "_shared", throttling._SharedCounters())


def _codes(client, n: int) -> list[int]:
    return [client.get("/api/v1/departments/").status_code for _ in range(n)]


def _redis():
    import redis

    return redis.Redis.from_url(django_settings.REDIS_URL)


def _early_in_a_redis_minute(margin: float = 5.0) -> tuple[int, float]:
    """The Redis server's current minute and the seconds elapsed in it, once at least `margin`
    seconds of it are left (waiting if need be): the shared count goes by the server's clock,
    which tests cannot move, and a test's requests must all fall in one of its minutes."""
    seconds, micros = _redis().time()
    now = seconds + micros / 1_000_000
    if now % 60 > 60 - margin:
        time.sleep(60 - now % 60 + 0.05)
        seconds, micros = _redis().time()
        now = seconds + micros / 1_000_000
    return int(now // 60), now % 60


def _counter_key(world, window: int) -> str:
    agency = AgencyApplication.objects.get(department=world.consumer)
    name = django_settings.DATABASES["default"]["NAME"]
    return f"govdata:throttle:{name}:throttle_application_app:{agency.pk}:{window}"


def test_requests_past_the_rate_get_429_with_retry_after_by_the_redis_clock(
    api_world, two_per_minute
):
    client = api_world.clients["granted"]
    _window, elapsed = _early_in_a_redis_minute()
    with time_machine.travel(START, tick=False):  # this node's clock: 50 s into its minute
        assert _codes(client, 3) == [200, 200, 429]
        response = client.get("/api/v1/departments/")
    # Two in the server's minute: one more fits when it has ended and half the next has passed.
    assert 89 - elapsed <= int(response["Retry-After"]) <= 91 - elapsed
    assert response["Content-Type"] == "application/problem+json"


def test_the_previous_redis_minute_still_counts_and_the_one_before_does_not(
    api_world, two_per_minute
):
    client = api_world.clients["granted"]
    window, elapsed = _early_in_a_redis_minute()
    _redis().set(_counter_key(api_world.base, window - 2), 1000)  # other nodes, long ago
    assert _codes(client, 1) == [200]
    _redis().set(_counter_key(api_world.base, window - 1), 1000)  # other nodes, last minute
    response = client.get("/api/v1/departments/")
    assert response.status_code == 429
    # Until (almost) all of the previous minute has slid out of the last 60 s.
    assert 58 - elapsed <= int(response["Retry-After"]) <= 61 - elapsed


def test_nodes_whose_clocks_differ_count_in_the_same_window_of_the_redis_clock(two_per_minute):
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.test import APIRequestFactory

    request = APIRequestFactory().get("/api/v1/departments/", REMOTE_ADDR="192.0.2.7")
    request.user = AnonymousUser()
    late, early = ApplicationRateThrottle(), ApplicationRateThrottle()
    # Two web nodes 3 s apart, across a minute's edge by their own clocks.
    late.timer = lambda: 60 * 29_000_000 + 59.5
    early.timer = lambda: 60 * 29_000_001 + 2.5
    window, elapsed = _early_in_a_redis_minute()
    assert late.allow_request(request, None)
    assert early.allow_request(request, None)
    assert not late.allow_request(request, None)  # two in one minute, whichever node counted
    assert not early.allow_request(request, None)
    name = django_settings.DATABASES["default"]["NAME"]
    prefix = f"govdata:throttle:{name}:throttle_application_anon:192.0.2.7:"
    assert [key.decode() for key in _redis().scan_iter(f"{prefix}*")] == [f"{prefix}{window}"]
    assert int(_redis().get(f"{prefix}{window}")) == 2
    for node in (late, early):  # the same Retry-After from both
        assert 89 - elapsed <= node.wait() <= 91 - elapsed


def test_without_redis_the_last_minutes_requests_still_count_when_a_new_minute_starts(
    api_world, two_per_minute, redis_unreachable
):
    client = api_world.clients["granted"]
    with time_machine.travel(START, tick=False):
        assert _codes(client, 2) == [200, 200]
    # 20 s later, in the next fixed minute: the two are 20 s old and still within the window.
    with time_machine.travel(START + dt.timedelta(seconds=20), tick=False):
        response = client.get("/api/v1/departments/")
        assert response.status_code == 429
        assert 1 <= int(response["Retry-After"]) <= 60
    # Half of the previous minute has slid out: one request fits again, not two.
    with time_machine.travel(START + dt.timedelta(seconds=40), tick=False):
        assert _codes(client, 2) == [200, 429]
    # Two minutes on, nothing counts any more.
    with time_machine.travel(START + dt.timedelta(seconds=180), tick=False):
        assert _codes(client, 2) == [200, 200]


def test_each_application_has_its_own_count(api_world, two_per_minute):
    _early_in_a_redis_minute()
    with time_machine.travel(clock.now(), tick=False):
        assert _codes(api_world.clients["granted"], 3) == [200, 200, 429]
        assert _codes(api_world.clients["owner"], 2) == [200, 200]


def test_the_count_is_shared_by_every_worker_through_redis(api_world, two_per_minute):
    client = api_world.clients["granted"]
    window, _elapsed = _early_in_a_redis_minute()
    with time_machine.travel(START, tick=False):  # this node's clock does not pick the key
        assert _codes(client, 1) == [200]
        key = _counter_key(api_world.base, window)
        assert int(_redis().get(key)) == 1  # counted where every worker sees it
        _redis().incr(key)  # another worker's request in the same minute
        assert _codes(client, 1) == [429]


def test_without_redis_reads_go_on_and_each_process_counts_alone(
    api_world, two_per_minute, redis_unreachable
):
    client = api_world.clients["granted"]
    agency = AgencyApplication.objects.get(department=api_world.base.consumer)
    with time_machine.travel(START, tick=False):
        assert _codes(client, 3) == [200, 200, 429]
        stored = ApplicationRateThrottle.cache.get(f"throttle_application_app:{agency.pk}")
        window, current, previous = stored
    assert (current, previous) == (2, 0)  # three numbers, whatever the rate


def test_a_reset_forgets_the_counts_and_leaves_the_default_cache_alone(
    api_world, two_per_minute, redis_unreachable
):
    from django.core.cache import cache

    cache.set("someone-else", "kept")
    client = api_world.clients["granted"]
    with time_machine.travel(START, tick=False):
        assert _codes(client, 3) == [200, 200, 429]
        throttle_reset()
        assert _codes(client, 1) == [200]
    assert cache.get("someone-else") == "kept"
