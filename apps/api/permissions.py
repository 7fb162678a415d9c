"""Who may call which endpoint; token scopes count for applications, roles for people."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from apps.api.auth import caller_for


class IsMember(BasePermission):
    """Any authenticated application or department member (officer or auditor)."""

    message = _("You are not a member of any department.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        caller = caller_for(request)
        if caller.is_application:
            return caller.may("read")
        return bool(
            caller.department or caller.auditor_department_ids or caller.is_platform_auditor
        )


class ActsForDepartment(IsMember):
    """Applications (scope `read`) and officers: reads of records act for a department."""

    message = _("Only applications and data officers read records.")

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        caller = caller_for(request)
        return caller.department is not None and caller.may("read")


class MayWorkOnRequests(IsMember):
    """Officers, and applications holding the `requests` scope."""

    message = _("Submitting and following requests needs an officer or the `requests` scope.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        caller = caller_for(request)
        return caller.department is not None and caller.may("requests")
