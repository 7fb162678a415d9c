"""OpenAPI pieces shared by every API module: the problem-details body (RFC 9457) with the
responses that carry it, and the postprocessing hook adding what every operation shares.

The shapes follow apps.common.problems (problem_body, problem_exception_handler) and the
middleware in front of the views (apps.common.middleware, apps.common.dbfailure): change them
together.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.drainage import warn
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers

from apps.common.problems import PROBLEM_BASE

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

_ERRORS_SCHEMA = {
    "oneOf": [
        {
            "type": "object",
            "additionalProperties": True,
            "description": "Member (field) name -> its messages (a list, or nested members).",
        },
        {"type": "array", "items": {"type": "string"}},
    ],
}


@extend_schema_field(_ERRORS_SCHEMA)
class ProblemErrorsField(serializers.JSONField):
    """The `errors` extension member: DRF's validation errors, as they were raised."""


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details (`application/problem+json`), the body of every error."""

    type = serializers.URLField(
        help_text=f"`{PROBLEM_BASE}` + the error code (`invalid`, `parse_error`, "
        "`not_authenticated`, `authentication_failed`, `permission_denied`, `not_found`, "
        "`conflict`, `throttled`, `database_unavailable`, ...) or the status code."
    )
    title = serializers.CharField(help_text="The status code's reason phrase.")
    status = serializers.IntegerField(min_value=400, max_value=599)
    detail = serializers.CharField(help_text="What went wrong; never echoes record values.")
    request_id = serializers.CharField(
        help_text="The response's `X-Request-Id`: quote it when reporting a problem."
    )
    errors = ProblemErrorsField(
        required=False,
        help_text="Only on `invalid` (400) problems: the invalid members of the request body.",
    )


PROBLEM = ProblemSerializer  # the name views import

PROBLEM_DESCRIPTIONS = {
    400: "Malformed request (problem details): an invalid body (`errors` names the members), "
    "query parameter or header, or NUL characters in the path or query.",
    401: "No valid credentials: no token or session, or an invalid, expired or revoked token.",
    403: "Authenticated, but not allowed: role, token scope, dataset or field.",
    404: "Not found: no such dataset, record or request, or a `format` query parameter naming "
    "no response format (DRF's format override; only `json`).",
    409: "The request's current status does not allow this action.",
    413: "The body is larger than the platform takes (DATA_UPLOAD_MAX_MEMORY_SIZE).",
    415: "The body is not JSON: send `Content-Type: application/json`, encoded as UTF-8.",
    429: "Throttled: retry after `Retry-After` seconds.",
    500: "The server failed; quote `request_id` when reporting it.",
    503: "The database is temporarily unavailable: retry after `Retry-After` seconds.",
}


def problems(*codes: int) -> dict[tuple[int, str], OpenApiResponse]:
    """Problem-details responses for the given status codes, for `extend_schema(responses=...)`:
    `application/problem+json` with the shared `Problem` schema."""
    return {
        (code, PROBLEM_MEDIA_TYPE): OpenApiResponse(
            ProblemSerializer, description=PROBLEM_DESCRIPTIONS.get(code, "")
        )
        for code in codes
    }


# --- Postprocessing hook --------------------------------------------------------------------

HEADERS = {
    "RequestId": {
        "description": "Echoed from the request's `X-Request-Id` when it matches "
        "`[A-Za-z0-9._:-]{1,128}`, else generated.",
        "required": True,
        "schema": {"type": "string"},
    },
    "RetryAfter": {
        "description": "Seconds to wait before retrying.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "WWWAuthenticate": {
        "description": '`Bearer realm="api"`.',
        "required": True,
        "schema": {"type": "string"},
    },
}
_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _header_ref(key: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{key}"}


def _problem_response(code: int) -> dict[str, Any]:
    return {
        "description": PROBLEM_DESCRIPTIONS[code],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": dict(PROBLEM_REF)}},
    }


def _is_problem(media: dict[str, Any]) -> bool:
    return media.get("schema") == PROBLEM_REF


def _close_request_bodies(result: dict[str, Any], operation: dict[str, Any]) -> None:
    """A request body is a closed object (apps.api.views.base.valid_input refuses any member
    its serializer does not declare, with a 400), in JSON only (apps.common.parsers: else
    415)."""
    body = operation.get("requestBody")
    if not body:
        return
    schemas = result.get("components", {}).get("schemas", {})
    for media in body.get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        schema = schemas.get(ref.rsplit("/", 1)[-1]) if ref else media.get("schema")
        if schema is not None and schema.get("type", "object") == "object":
            schema["additionalProperties"] = False
    responses = operation.setdefault("responses", {})
    for code in (413, 415):
        responses.setdefault(str(code), _problem_response(code))


def postprocess_problems(result, generator, request, public):
    """What every API operation shares, whatever its view declares:

    - errors are `application/problem+json` with the `Problem` schema (a `Problem` declared
      under `application/json` is moved);
    - request bodies are closed objects, in JSON only (415);
    - on every operation 400 (NulCharacterMiddleware answers any path), 404 (DRF's `format`
      override answers any value naming no renderer) and 500 (apps.api.errors.handler500); on
      every authenticated one 503 (DatabaseUnavailableMiddleware: authentication reads the
      database);
    - the response headers: `X-Request-Id` on every response (RequestIdMiddleware),
      `Retry-After` on 429 and 503, `WWW-Authenticate` on 401.
    """
    components = result.setdefault("components", {})
    if "Problem" not in components.get("schemas", {}):
        warn("no operation declares a Problem response: the problem hook adds references to it")
    components.setdefault("headers", {}).update(HEADERS)
    for path, path_item in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            _close_request_bodies(result, operation)
            responses = operation.setdefault("responses", {})
            authenticated = any(requirement for requirement in operation.get("security", []))
            for code in (400, 404, 500, 503) if authenticated else (400, 404, 500):
                responses.setdefault(str(code), _problem_response(code))
            for code, response in responses.items():
                content = response.get("content", {})
                json_media = content.get("application/json")
                is_error = code.isdigit() and int(code) >= 400
                if is_error and json_media is not None and _is_problem(json_media):
                    content[PROBLEM_MEDIA_TYPE] = content.pop("application/json")
                headers = response.setdefault("headers", {})
                headers["X-Request-Id"] = _header_ref("RequestId")
                if code in ("429", "503"):
                    headers["Retry-After"] = _header_ref("RetryAfter")
                if code == "401":
                    headers["WWW-Authenticate"] = _header_ref("WWWAuthenticate")
            operation["responses"] = dict(sorted(responses.items()))
    return result


__all__ = [
    "HEADERS",
    "PROBLEM",
    "PROBLEM_MEDIA_TYPE",
    "ProblemSerializer",
    "postprocess_problems",
    "problems",
]
