"""drf-spectacular extensions and hooks of the agency API: how callers authenticate (OAuth2 client
credentials with per-operation scopes, or the browser session) and the record endpoints' query
parameters, as the server treats them.

The scopes an operation needs follow the permission classes (apps.api.permissions); a permission
class this module does not know is a schema warning (`spectacular --fail-on-warn` fails), so that
a new one cannot silently appear with the wrong requirement.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.conf import settings
from django.urls import reverse
from drf_spectacular.drainage import set_override, warn
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from apps.api.auth import ApplicationAuthentication, CsrfSessionAuthentication
from apps.api.permissions import (
    ActsForDepartment,
    FollowsObjections,
    FollowsRequests,
    IsMember,
    MayWorkOnObjections,
    MayWorkOnRequests,
    SeesCatalogue,
)
from apps.audit.permissions import CanViewEvents, IsAuditor, IsPlatformAuditor
from apps.records.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, RESERVED_PARAMS
from apps.records.query_values import MAX_IN_VALUES

OAUTH2 = "oauth2"
SESSION = "browserSession"

# The token scopes each permission class lets an application through with (any one of them;
# Caller.may), exact classes: the classes' own `scopes`, listed here so that a new class is
# noticed. `requests` alone is enough to submit and act on requests, and to follow them and
# read the catalogue; `read` alone to read records and to follow requests.
SCOPE_OF_PERMISSION: dict[type, tuple[str, ...]] = {
    cls: cls.scopes
    for cls in (
        IsMember,
        SeesCatalogue,
        ActsForDepartment,
        FollowsRequests,
        MayWorkOnRequests,
        FollowsObjections,
        MayWorkOnObjections,
    )
}
# Permission classes that need a person (request.user with memberships): a client-credentials
# token authenticates but never passes them (403).
PEOPLE_ONLY_PERMISSIONS: tuple[type, ...] = (CanViewEvents, IsAuditor, IsPlatformAuditor)


def application_scopes(view) -> list[list[str]] | None:
    """The alternative sets of scopes an application token needs for this operation (any one
    set lets it through), or None when no application token is let through."""
    choices: list[tuple[str, ...]] = []
    for permission in view.get_permissions():
        cls = type(permission)
        if cls in PEOPLE_ONLY_PERMISSIONS:
            return None
        scopes = SCOPE_OF_PERMISSION.get(cls)
        if scopes is None:
            warn(
                f"{view.__class__.__name__}: no OpenAPI scope known for permission "
                f"{cls.__module__}.{cls.__qualname__} (apps/api/schema.py SCOPE_OF_PERMISSION)"
            )
            return None
        choices.append(scopes)
    alternatives: list[list[str]] = []
    for combination in itertools.product(*choices):  # every permission must pass
        needed = list(dict.fromkeys(combination))
        if needed not in alternatives:
            alternatives.append(needed)
    return alternatives


class OAuth2ClientCredentialsScheme(OpenApiAuthenticationExtension):
    """Bearer tokens of registered agency applications (apps.api.auth.ApplicationAuthentication,
    a subclass of django-oauth-toolkit's class) on the agency and audit APIs alike. One
    scheme, replacing drf-spectacular's built-in one for the toolkit (no flows)."""

    target_class = "oauth2_provider.contrib.rest_framework.OAuth2Authentication"
    match_subclasses = True
    priority = 1
    name = OAUTH2

    def get_security_requirement(self, auto_schema):
        alternatives = application_scopes(auto_schema.view)
        if alternatives is None:
            return None
        return [{self.name: scopes} for scopes in alternatives]

    def get_security_definition(self, auto_schema):
        from oauth2_provider.scopes import get_scopes_backend

        return {
            "type": "oauth2",
            "description": (
                "Agency applications: `POST` `grant_type=client_credentials`, `client_id` and "
                "`client_secret` to the token URL, then send `Authorization: Bearer <token>`. "
                "Without `scope` the token holds every scope the application was registered "
                "with; `scope` (space-separated) asks for fewer, and a scope the application "
                "was not registered with is refused (`invalid_scope`). A disabled application, "
                "or a secret replaced by rotation, is refused (`invalid_client`). An "
                "application acts for its department."
            ),
            "flows": {
                "clientCredentials": {
                    "tokenUrl": reverse("oauth2_provider:token"),
                    "scopes": {
                        name: str(description)
                        for name, description in get_scopes_backend().get_all_scopes().items()
                    },
                }
            },
        }


class BrowserSessionScheme(OpenApiAuthenticationExtension):
    """The logged-in officer's or auditor's session: apps.api.auth.CsrfSessionAuthentication and
    REST framework's SessionAuthentication (the audit API's default). One scheme, replacing
    drf-spectacular's built-in `cookieAuth`."""

    target_class = "rest_framework.authentication.SessionAuthentication"
    match_subclasses = True
    priority = 1
    name = SESSION

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": (
                "Officers and auditors logged in to the platform. Unsafe methods (POST) also need "
                f"the `{settings.CSRF_COOKIE_NAME}` cookie's value in the `X-CSRFToken` header."
            ),
        }


# Each scheme covers an agency API class and the audit API's default (its base class) with one
# definition, made by the extension above: the shared name is not a collision. (drf-spectacular
# marks its own deliberate collisions the same way.)
for _cls in (ApplicationAuthentication, CsrfSessionAuthentication):
    set_override(_cls, "suppress_collision_warning", True)


# --- Record endpoints' query parameters -----------------------------------------------------

_RESERVED = ", ".join(f"`{name}`" for name in sorted(RESERVED_PARAMS))
RECORD_PARAMETERS: dict[str, dict[str, Any]] = {
    "fields": {
        "in": "query",
        "name": "fields",
        "schema": {"type": "string"},
        "description": (
            "Comma-separated projection (default: every field you may read). An unknown field "
            "is a 400, a field you may not read a 403."
        ),
    },
    "ordering": {
        "in": "query",
        "name": "ordering",
        "schema": {"type": "string"},
        "description": (
            "Comma-separated fields, `-` for descending, e.g. `district,-birth_date`. Only "
            "fields you read in clear (a masked or unreadable one is a 403); unknown: 400."
        ),
    },
    "cursor": {
        "in": "query",
        "name": "cursor",
        "schema": {"type": "string"},
        "description": "Opaque; from the previous page's `next` (an invalid one is a 400).",
    },
    "page_size": {
        "in": "query",
        "name": "page_size",
        "schema": {
            "type": "integer",
            "minimum": 1,
            "maximum": MAX_PAGE_SIZE,
            "default": DEFAULT_PAGE_SIZE,
        },
        "description": f"1 to {MAX_PAGE_SIZE} (else 400).",
    },
    "filters": {
        "in": "query",
        "name": "filters",
        "style": "form",
        "explode": True,
        "schema": {"type": "object", "additionalProperties": {"type": "string"}},
        "description": (
            "Row filters, one query parameter each: `<field>=v` (or `<field>__exact=v`), "
            f"`<field>__in=a,b` (1 to {MAX_IN_VALUES} values; the request line, path and "
            "query together, may be at most 8190 bytes, about 400 ID numbers: longer is a "
            "414), "
            "`<field>__gte=v`, `<field>__lte=v`, `<field>__contains=v` (text fields). Only on "
            "fields you read in clear (a masked or unreadable one is a 403, never a silent "
            "drop); an unknown field or a value not of the field's type is a 400. "
            f"{_RESERVED} are not filters."
        ),
    },
}
RECORD_OPERATION_PARAMETERS = {
    "records_list": ["fields", "ordering", "cursor", "page_size", "filters"],
    "records_export": ["fields", "ordering", "filters"],  # cursor, page_size: ignored
}


def postprocess_record_parameters(result, generator, request, public):
    """The query parameters of the record list and export as apps.records.query reads them:
    bounds of `page_size`, what `fields` / `ordering` accept, and the free-form row filters."""
    found = set()
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            operation_id = operation.get("operationId") if isinstance(operation, dict) else None
            if operation_id not in RECORD_OPERATION_PARAMETERS:
                continue
            found.add(operation_id)
            parameters = operation.setdefault("parameters", [])
            by_name = {(p["in"], p["name"]): p for p in parameters}
            for name in RECORD_OPERATION_PARAMETERS[operation_id]:
                wanted = dict(RECORD_PARAMETERS[name])
                existing = by_name.get(("query", name))
                if existing is not None:
                    existing.update(wanted)
                else:
                    parameters.append(wanted)
            parameters.sort(key=lambda p: (p["in"], p["name"]))
    for missing in sorted(set(RECORD_OPERATION_PARAMETERS) - found):
        warn(f"postprocess_record_parameters: no operation {missing} in the schema")
    return result
