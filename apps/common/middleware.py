"""Request correlation (every response carries X-Request-Id, echoed or generated) and the
trailing-slash redirect."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.http import escape_leading_slashes

_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request.request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response


class PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    status_code = 308


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that the redirect adding a missing trailing slash is a 308, which
    keeps the method and the body: after a 301, clients turned an agency's
    `POST /api/v1/requests` into a GET of the list, answered 200, and the agency believed its
    request submitted."""

    response_redirect_class = PermanentRedirectKeepingMethod

    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        # Django refuses (in DEBUG) to redirect a POST, whose body a 301 loses; a 308 keeps it.
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))
