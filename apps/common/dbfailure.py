"""Requests the database cannot serve get a clear problem instead of a bare 500: while
PostgreSQL is unreachable (restart, failover) a 503 with Retry-After, so agency clients retry
rather than give up; a NUL character, which PostgreSQL text cannot hold, a 400."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connections
from django.http import HttpRequest, HttpResponse
from django.utils import translation
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


class NulCharacterMiddleware:
    """PostgreSQL text cannot hold NUL (0x00): a path segment (a dataset code, a record key) or
    a query parameter carrying one would fail deep in a query as a 500. It is a malformed
    request, so it gets a 400 naming the problem."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # This runs before LocaleMiddleware: answer in the request's language, not whichever
        # one the thread served last.
        with translation.override(translation.get_language_from_request(request)):
            refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponse | None:
        if "\x00" in request.path:
            return problem_response(
                request, 400, _("The request's path must not contain NUL (0x00) characters.")
            )
        if "%00" in request.META.get("QUERY_STRING", "") or any(
            "\x00" in key or any("\x00" in v for v in values) for key, values in request.GET.lists()
        ):
            return problem_response(
                request, 400, _("Query parameters must not contain NUL (0x00) characters.")
            )
        return None
