"""Who may see which audit records: every decision about audit visibility lives here.

- platform auditors (and superusers) see everything;
- department auditors see events where their department is the provider or the consumer
  (administrative events: where their department is the one concerned);
- data officers see their own department's usage as a consumer.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from rest_framework.permissions import BasePermission

from apps.departments.models import Membership
from apps.departments.selectors import user_department_ids, user_is_platform_auditor

NOTHING = Q(pk__in=[])


def audit_scope(*, user) -> Q | None:
    """A filter on AuditEvent for what `user` may see; None means everything, NOTHING none."""
    if not getattr(user, "is_authenticated", False):
        return NOTHING
    if user_is_platform_auditor(user=user):
        return None
    audited = user_department_ids(user=user, role=Membership.Role.AUDITOR)
    officed = user_department_ids(user=user, role=Membership.Role.OFFICER)
    scope = NOTHING
    if audited:
        scope |= Q(provider_id__in=audited) | Q(consumer_id__in=audited)
    if officed:
        scope |= Q(kind="access", consumer_id__in=officed)
    return scope


def can_view_events(*, user) -> bool:
    return audit_scope(user=user) is not NOTHING


def is_auditor(*, user) -> bool:
    """Auditors (department or platform) may run verification and read checkpoints."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user_is_platform_auditor(user=user) or bool(
        user_department_ids(user=user, role=Membership.Role.AUDITOR)
    )


def can_view_alerts(*, user) -> bool:
    return is_auditor(user=user)


@dataclass(frozen=True)
class ConsoleAccess:
    """Which pages of the auditors' console a user may open: the navigation links only these,
    and each page checks its own."""

    events: bool  # search, detail, charts, CSV
    verify: bool
    alerts: bool


def console_access(*, user) -> ConsoleAccess:
    # can_view_alerts is is_auditor: asked once.
    auditor = is_auditor(user=user)
    return ConsoleAccess(
        events=auditor or can_view_events(user=user), verify=auditor, alerts=auditor
    )


def _a_person(request) -> bool:
    """The audit rules are about people and their memberships; an agency application's token
    is authenticated but is no person (apps.api.auth.ApplicationUser), and is refused."""
    from apps.api.auth import ApplicationUser

    return not isinstance(request.user, ApplicationUser)


class CanViewEvents(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _a_person(request) and can_view_events(user=request.user)


class IsAuditor(BasePermission):
    def has_permission(self, request, view) -> bool:
        return _a_person(request) and is_auditor(user=request.user)


class IsPlatformAuditor(BasePermission):
    """The whole log (its NDJSON export): platform auditors only. A department auditor's share
    of the chain cannot be verified alone, and the rest of it is not theirs to read."""

    def has_permission(self, request, view) -> bool:
        return _a_person(request) and user_is_platform_auditor(user=request.user)
