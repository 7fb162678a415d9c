"""Who is calling: an agency application (OAuth2 client credentials) or a logged-in member.

Either way the API acts for one department (`Caller.department`); auditors read the catalogue
and the audit log but have no acting department for records.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from oauth2_provider.models import get_access_token_model
from rest_framework import exceptions
from rest_framework.authentication import SessionAuthentication

from apps.api.models import AgencyApplication
from apps.common import clock
from apps.common.prepared import execute_prepared
from apps.departments.models import Department, Membership
from apps.sharing.policy import READ_COLUMNS, read_params, read_statement


class ApplicationUser(AnonymousUser):
    """The principal of a client-credentials token: no person, an application acting for its
    department."""

    def __init__(self, agency: AgencyApplication) -> None:
        self.agency = agency
        self.pk = self.id = None
        self.username = f"application:{agency.application.client_id}"

    @property
    def is_authenticated(self) -> bool:  # type: ignore[override]
        return True

    def __str__(self) -> str:
        return self.username


class ApplicationAuthentication(OAuth2Authentication):
    """Bearer tokens of agency applications, checked in one query (token, client, agency and
    department together) instead of oauthlib's request round: lookups are the hot path."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _sep, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            return None
        checksum = hashlib.sha256(raw.strip().encode("utf-8")).hexdigest()
        found = _token_lookup(checksum, read_code=_read_code(request))
        if found is None:
            request.oauth2_error = {"error": "invalid_token"}
            raise exceptions.AuthenticationFailed(_("The access token is invalid or expired."))
        return found


_TOKEN_FIELDS = ["id", "expires", "scope", "application_id"]
_CLIENT_FIELDS = ["id", "client_id", "name"]
_AGENCY_FIELDS = ["id", "application_id", "department_id", "allowed_scopes", "is_active"]
_DEPARTMENT_FIELDS = ["id", "code", "name", "group_id"]


def _ordered(model, wanted: list[str]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.attname in wanted]


def _read_code(request) -> str | None:
    """The dataset code of a record read (views with `read_context_in_auth`), else None."""
    context = getattr(request, "parser_context", None) or {}
    view = context.get("view")
    if not getattr(view, "read_context_in_auth", False):
        return None
    code = (context.get("kwargs") or {}).get("code")
    return code if isinstance(code, str) else None


def _token_lookup(checksum: str, read_code: str | None = None):
    """One raw query for the token, its client, agency and department (the ORM's compile
    of the same join costs more than the query on the lookup path). Partial model instances
    are built with from_db, so any other field loads on access rather than being blank.

    For a record read (`read_code`), the same round trip also loads the dataset, its fields and
    the department's live grants (sharing.policy.read_statement, a LATERAL join on the token's
    department, evaluated at the same clock.now()); the view takes them from
    `request.govdata_read_row`. Nothing is cached across requests: revocations, disabled
    applications and secret rotations count at once."""
    token_model = get_access_token_model()
    client_model = token_model._meta.get_field("application").related_model
    # from_db takes the values in the model's field order.
    tf, cf = _ordered(token_model, _TOKEN_FIELDS), _ordered(client_model, _CLIENT_FIELDS)
    af, df = _ordered(AgencyApplication, _AGENCY_FIELDS), _ordered(Department, _DEPARTMENT_FIELDS)
    columns = [f"t.{c}" for c in tf] + ["t.resource"]
    columns += [f"c.{c}" for c in cf] + [f"g.{c}" for c in af] + [f"d.{c}" for c in df]
    now = clock.now()
    params = {"checksum": checksum, "now": now}
    lateral = ""
    if read_code is not None:
        columns.append("rc.*")
        context = read_statement(department="d.id", group="d.group_id")
        lateral = f"LEFT JOIN LATERAL ({context}) rc ON TRUE "
        params.update(read_params(code=read_code, at=now))
    statement = (
        f"SELECT {', '.join(columns)} FROM {token_model._meta.db_table} t "
        f"JOIN {client_model._meta.db_table} c ON c.id = t.application_id "
        f"JOIN {AgencyApplication._meta.db_table} g ON g.application_id = c.id "
        f"JOIN {Department._meta.db_table} d ON d.id = g.department_id "
        f"{lateral}"
        "WHERE t.token_checksum = %(checksum)s AND g.is_active AND t.expires > %(now)s "
        # Defence in depth behind the rotation's delete (apps.api.services): a token older
        # than the client's last secret rotation was obtained with a replaced secret.
        "AND (g.secret_rotated_at IS NULL OR t.created >= g.secret_rotated_at)"
    )
    with connection.cursor() as cursor:
        execute_prepared(cursor, statement, params)  # planning it would cost more than running it
        row = cursor.fetchone()
    if row is None:
        return None
    read_row = None
    if read_code is not None:
        read_row = (read_code, row[-READ_COLUMNS:])
        row = row[:-READ_COLUMNS]
    n1, n2 = len(tf), len(tf) + 1
    n3 = n2 + len(cf)
    n4 = n3 + len(af)
    if row[n1] not in (None, "", "[]", []):  # audience-restricted tokens are not for this API
        return None
    token = token_model.from_db("default", tf, row[:n1])
    client = client_model.from_db("default", cf, row[n2:n3])
    agency = AgencyApplication.from_db("default", af, row[n3:n4])
    department = Department.from_db("default", df, row[n4:])
    token.application = agency.application = client
    agency.department = department
    token.govdata_read_row = read_row
    return ApplicationUser(agency), token


class CsrfSessionAuthentication(SessionAuthentication):
    """Browser calls from logged-in officers and auditors (CSRF enforced by DRF)."""


@dataclass
class Caller:
    department: object | None  # the department the API acts for (None: auditors only)
    user: object | None = None  # the person, for session calls
    agency: AgencyApplication | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    auditor_department_ids: frozenset[int] = frozenset()
    is_platform_auditor: bool = False

    @property
    def is_application(self) -> bool:
        return self.agency is not None

    def may(self, scope: str) -> bool:
        if self.agency is None:
            return True  # people are limited by their role, not by token scopes
        return scope in self.scopes and self.agency.allows(scope)


def caller_for(request) -> Caller:
    """Resolved once per request and cached on it (a constant number of queries)."""
    cached = getattr(request, "_govdata_caller", None)
    if cached is not None:
        return cached
    user = request.user
    if isinstance(user, ApplicationUser):
        token = request.auth
        caller = Caller(
            department=user.agency.department,
            agency=user.agency,
            scopes=frozenset((getattr(token, "scope", "") or "").split()),
        )
    else:
        from apps.departments.selectors import user_is_platform_auditor

        memberships = list(Membership.objects.filter(user=user).select_related("department"))
        officer = sorted(
            (m.department for m in memberships if m.role == Membership.Role.OFFICER),
            key=lambda d: d.code,
        )
        caller = Caller(
            department=officer[0] if officer else None,
            user=user,
            auditor_department_ids=frozenset(
                m.department_id for m in memberships if m.role == Membership.Role.AUDITOR
            ),
            is_platform_auditor=user_is_platform_auditor(user=user),
        )
    request._govdata_caller = caller
    return caller
