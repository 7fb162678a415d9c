"""Throttling per application (or per person for browser calls); 429 carries Retry-After."""

from __future__ import annotations

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
