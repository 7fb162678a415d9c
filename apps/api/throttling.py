"""Throttling per application (or per person for browser calls); 429 carries Retry-After.

A sliding window counted in two fixed windows (the current one and the one before, weighted by
how much of it still overlaps the last `duration` seconds): constant work and a three-number
cache entry per caller. DRF's SimpleRateThrottle keeps every request's timestamp instead, and
the process cache pickles that list on every request: at 6,000/min, up to 6,000 floats each way.
The count is per process (the cache is in-process, so that reads never depend on Redis) and a
read-modify-write without a lock, so concurrent requests of one caller may undercount by a few.
"""

from __future__ import annotations

import math

from rest_framework.throttling import SimpleRateThrottle

from apps.api.auth import ApplicationUser


class ApplicationRateThrottle(SimpleRateThrottle):
    scope = "application"

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
        now = self.timer()
        window, elapsed = divmod(now, self.duration)
        current, previous = self._counts(self.cache.get(self.key), int(window))
        self._state = (elapsed, current, previous)
        if self._estimate(elapsed, current, previous) + 1 > self.num_requests:
            return False
        self.cache.set(self.key, (int(window), current + 1, previous), 2 * self.duration)
        return True

    @staticmethod
    def _counts(entry, window: int) -> tuple[int, int]:
        """(this window's count, the previous window's count) from the cached entry."""
        if entry is None:
            return 0, 0
        stored_window, current, previous = entry
        if stored_window == window:
            return current, previous
        if stored_window == window - 1:
            return 0, current
        return 0, 0

    def _estimate(self, elapsed: float, current: int, previous: int) -> float:
        return previous * (self.duration - elapsed) / self.duration + current

    def wait(self) -> float | None:
        """Seconds until one more request fits in the window."""
        elapsed, current, previous = self._state
        room = self.num_requests - 1
        if (
            current and current > room
        ):  # full already: wait for this window to end, then for its weight
            seconds = self.duration - elapsed + self.duration * (1 - room / current)
        elif previous:
            seconds = self.duration - elapsed - (room - current) * self.duration / previous
        else:
            seconds = self.duration - elapsed
        return max(1, math.ceil(seconds))
