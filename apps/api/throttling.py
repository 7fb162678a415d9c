"""Throttling per application (or per person for browser calls); 429 carries Retry-After.

A sliding window counted in two fixed windows: the current one and the one before, weighted by
how much of it still overlaps the last `duration` seconds. Constant work and two counters per
caller, where DRF's SimpleRateThrottle keeps every request's timestamp (and the process cache
pickled that list both ways on every request: up to 6,000 floats at the default rate).

The counters live in Redis, so that an application's rate holds across gunicorn workers and
web nodes: one round trip, a script that checks and counts atomically. Record reads must not
depend on Redis, so when it cannot be reached the throttle counts in the process instead
(per worker: the limit then applies per process) and tries Redis again after RETRY_SECONDS.
That count is kept in a memory cache of its own, not Django's default cache, which a
deployment may well point at the same Redis.
"""

from __future__ import annotations

import logging
import math
import threading
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache
from rest_framework.throttling import SimpleRateThrottle

from apps.api.auth import ApplicationUser

logger = logging.getLogger(__name__)
KEY_PREFIX = "govdata:throttle:"
RETRY_SECONDS = 5.0
TIMEOUT_SECONDS = 0.2  # a Redis that does not answer must not hold up reads

# KEYS: this window's and the previous window's counter. ARGV: limit, the previous window's
# weight, this counter's time to live. Counts the request only if it is allowed.
_CHECK_AND_COUNT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[2]) + current + 1 > tonumber(ARGV[1]) then
  return {0, current, previous}
end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, current, previous}
"""


class _SharedCounters:
    """The Redis client of this process, or None while Redis is out of reach."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script = None
        self._down_until = 0.0

    def script(self):
        if not settings.REDIS_URL or time.monotonic() < self._down_until:
            return None
        with self._lock:
            if self._script is None:
                import redis

                client = redis.Redis.from_url(
                    settings.REDIS_URL,
                    socket_timeout=TIMEOUT_SECONDS,
                    socket_connect_timeout=TIMEOUT_SECONDS,
                )
                self._script = client.register_script(_CHECK_AND_COUNT)
            return self._script

    def failed(self, exc: Exception) -> None:
        if time.monotonic() >= self._down_until:
            logger.warning("Throttle counting per process for %ss: %s", RETRY_SECONDS, exc)
        self._down_until = time.monotonic() + RETRY_SECONDS


_shared = _SharedCounters()
# The counts of this process while Redis is out of reach: one entry per caller.
_local = LocMemCache("govdata-throttle", {"OPTIONS": {"MAX_ENTRIES": 100_000}})


def throttle_reset() -> None:
    """Forget every caller's counts (tests, or after changing the rates); nothing else."""
    script = _shared.script()
    if script is not None:
        client = script.registered_client
        keys = list(client.scan_iter(f"{_prefix()}*", count=1000))
        if keys:
            client.delete(*keys)
    _local.clear()


def _prefix() -> str:
    # The database name keeps test databases (and several platforms on one Redis) apart.
    return f"{KEY_PREFIX}{settings.DATABASES['default']['NAME']}:"


class ApplicationRateThrottle(SimpleRateThrottle):
    scope = "application"
    cache = _local

    def get_cache_key(self, request, view) -> str | None:
        user = request.user
        if isinstance(user, ApplicationUser):
            ident = f"app:{user.agency.pk}"
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"anon:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        window, elapsed = divmod(self.timer(), self.duration)
        weight = (self.duration - elapsed) / self.duration
        counted = self._count_shared(int(window), weight)
        if counted is None:
            counted = self._count_local(int(window), weight)
        allowed, current, previous = counted
        self._state = (elapsed, current, previous)
        return allowed

    def _count_shared(self, window: int, weight: float) -> tuple[bool, int, int] | None:
        script = _shared.script()
        if script is None:
            return None
        import redis

        prefix = f"{_prefix()}{self.key}:"
        try:
            allowed, current, previous = script(
                keys=[f"{prefix}{window}", f"{prefix}{window - 1}"],
                args=[self.num_requests, repr(weight), 2 * self.duration],
            )
        except redis.RedisError as exc:
            _shared.failed(exc)
            return None
        return bool(allowed), int(current), int(previous)

    def _count_local(self, window: int, weight: float) -> tuple[bool, int, int]:
        """The same count in the process cache (a read-modify-write without a lock:
        concurrent requests of one caller may undercount by a few)."""
        current, previous = 0, 0
        entry = self.cache.get(self.key)
        if entry is not None:
            stored_window, stored_current, stored_previous = entry
            if stored_window == window:
                current, previous = stored_current, stored_previous
            elif stored_window == window - 1:
                previous = stored_current
        if previous * weight + current + 1 > self.num_requests:
            return False, current, previous
        self.cache.set(self.key, (window, current + 1, previous), 2 * self.duration)
        return True, current, previous

    def wait(self) -> float | None:
        """Seconds until one more request fits in the window."""
        elapsed, current, previous = self._state
        room = self.num_requests - 1
        if current and current > room:  # full already: wait for this window to end, then more
            seconds = self.duration - elapsed + self.duration * (1 - room / current)
        elif previous:
            seconds = self.duration - elapsed - (room - current) * self.duration / previous
        else:
            seconds = self.duration - elapsed
        return max(1, math.ceil(seconds))
