"""Throttling per application (or per person for browser calls); 429 carries Retry-After.

A sliding window counted in two fixed windows: the current one and the one before, weighted by
how much of it still overlaps the last `duration` seconds. Constant work and two counters per
caller, where DRF's SimpleRateThrottle keeps every request's timestamp (and the process cache
pickled that list both ways on every request: up to 6,000 floats at the default rate).

The counters live in Redis, so that an application's rate holds across gunicorn workers and
web nodes: one round trip, a script that checks and counts atomically. Its windows are those of
the Redis server's clock, which the script reads: web nodes whose clocks differ by a few seconds
would otherwise count the same moment into different windows (near a window's edge, up to twice
the rate) and tell callers different Retry-After. Record reads must not depend on Redis, so
when it cannot be reached the throttle counts in the process instead, by its own clock (per
worker: the limit then applies per process) and tries Redis again after RETRY_SECONDS.
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

# KEYS: the caller's counters without their window number (a window's counter is that plus
# the window's number: the script picks the window, from the server's clock). ARGV: limit, the
# window's length in seconds. Counts the request only if it is allowed; returns whether it was,
# the counts before it, and the microseconds elapsed in the window (a script's numbers come
# back as integers). Redis 5+ replicates a script's writes, not the script, so writing after
# reading TIME is allowed. The counters' names are made in the script, not passed in KEYS:
# fine on one Redis; on a Cluster the key prefix would need a hash tag.
_CHECK_AND_COUNT = """
local now = redis.call('TIME')
local duration = tonumber(ARGV[2])
local seconds = tonumber(now[1])
local window = math.floor(seconds / duration)
local elapsed_us = (seconds - window * duration) * 1000000 + tonumber(now[2])
local weight = (duration - elapsed_us / 1000000) / duration
local key = KEYS[1] .. string.format('%d', window)
local current = tonumber(redis.call('GET', key) or '0')
local previous = tonumber(redis.call('GET', KEYS[1] .. string.format('%d', window - 1)) or '0')
if previous * weight + current + 1 > tonumber(ARGV[1]) then
  return {0, current, previous, elapsed_us}
end
redis.call('INCR', key)
redis.call('EXPIRE', key, 2 * duration)
return {1, current, previous, elapsed_us}
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
        counted = self._count_shared()
        if counted is None:
            counted = self._count_local()
        allowed, current, previous, elapsed = counted
        self._state = (elapsed, current, previous)
        return allowed

    def _count_shared(self) -> tuple[bool, int, int, float] | None:
        """(allowed, this window's count, the previous window's, seconds into this window),
        the window being the Redis server's."""
        script = _shared.script()
        if script is None:
            return None
        import redis

        try:
            allowed, current, previous, elapsed_us = script(
                keys=[f"{_prefix()}{self.key}:"], args=[self.num_requests, self.duration]
            )
        except redis.RedisError as exc:
            _shared.failed(exc)
            return None
        return bool(allowed), int(current), int(previous), int(elapsed_us) / 1_000_000

    def _count_local(self) -> tuple[bool, int, int, float]:
        """The same count in the process cache, in a window of this node's clock (only this
        process counts there), as a read-modify-write without a lock: concurrent requests of
        one caller may undercount by a few."""
        window, elapsed = divmod(self.timer(), self.duration)
        window = int(window)
        weight = (self.duration - elapsed) / self.duration
        current, previous = 0, 0
        entry = self.cache.get(self.key)
        if entry is not None:
            stored_window, stored_current, stored_previous = entry
            if stored_window == window:
                current, previous = stored_current, stored_previous
            elif stored_window == window - 1:
                previous = stored_current
        if previous * weight + current + 1 > self.num_requests:
            return False, current, previous, elapsed
        self.cache.set(self.key, (window, current + 1, previous), 2 * self.duration)
        return True, current, previous, elapsed

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
