"""RFC 9457 problem details for every API error, with the request id for support."""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_BASE = "https://govdata.example/problems/"

_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def problem_body(
    *, status_code: int, detail: Any, request_id: str | None, type_: str | None = None, **extra: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (type_ or str(status_code)),
        "title": _TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        "request_id": request_id,
    }
    body.update(extra)
    return body


def problem_response(
    request: HttpRequest, status_code: int, detail: Any, *, type_: str | None = None, **extra: Any
) -> HttpResponse:
    """A plain Django response for places outside DRF (middleware, fast views)."""
    body = problem_body(
        status_code=status_code,
        detail=detail,
        request_id=getattr(request, "request_id", None),
        type_=type_,
        **extra,
    )
    return HttpResponse(
        orjson.dumps(body, default=str), status=status_code, content_type="application/problem+json"
    )


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    request = context.get("request")
    request_id = getattr(request, "request_id", None)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        detail: Any = _("The request is invalid.")
        extra = {"errors": response.data}
    else:
        raw = response.data.get("detail") if isinstance(response.data, dict) else response.data
        detail = str(raw) if raw is not None else _TITLES.get(response.status_code, "")
        extra = {}
    code = getattr(exc, "default_code", None) or str(response.status_code)
    response.data = problem_body(
        status_code=response.status_code, detail=detail, request_id=request_id, type_=code, **extra
    )
    response.content_type = "application/problem+json"
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and "Retry-After" not in response:
        response["Retry-After"] = "1"
    return response
