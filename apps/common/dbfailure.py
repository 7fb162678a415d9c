"""While PostgreSQL is unreachable (restart, failover) callers get a clear 503 problem with
Retry-After instead of a bare 500, so agency clients know to retry rather than give up."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from apps.common.problems import problem_response

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


def database_unavailable_response(request: HttpRequest) -> HttpResponse:
    response = problem_response(
        request,
        503,
        _("The database is temporarily unavailable. Retry shortly."),
        type_="database_unavailable",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError):  # raised by a middleware further in
            return self._unavailable(request)

    def process_exception(self, request: HttpRequest, exception: Exception):
        if isinstance(exception, OperationalError | InterfaceError):
            return self._unavailable(request)
        return None

    def _unavailable(self, request: HttpRequest) -> HttpResponse:
        logger.warning("database unavailable while serving %s", request.path, exc_info=True)
        # A broken connection must not be reused by the next request on this thread.
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()
        return database_unavailable_response(request)
