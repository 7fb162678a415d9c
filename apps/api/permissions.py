"""Who may call which endpoint; token scopes count for applications, roles for people.

Each class names the token scopes it lets an application through with (`scopes`: any one of
them); apps.api.schema documents them per operation. An application refused for want of a scope
is told which scope it needs; a person is told which role the endpoint is for."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from apps.api.auth import caller_for


def _scope_refusal(scopes: tuple[str, ...]) -> str:
    if len(scopes) == 1:
        return gettext("This needs the “%(scope)s” scope, which this token does not hold.") % {
            "scope": scopes[0]
        }
    return gettext("This needs one of the scopes %(scopes)s; this token holds none of them.") % {
        "scopes": ", ".join(f"“{s}”" for s in scopes)
    }


class IsMember(BasePermission):
    """Any department member (officer or auditor), and applications with scope `read`."""

    scopes: tuple[str, ...] = ("read",)
    message = _("You are not a member of any department.")

    def scope_refusal(self) -> str:
        return _scope_refusal(self.scopes)

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        caller = caller_for(request)
        if caller.is_application:
            if not any(caller.may(scope) for scope in self.scopes):
                self.message = self.scope_refusal()
                return False
            return True
        return self.person_may(caller)

    def person_may(self, caller) -> bool:
        return bool(
            caller.department or caller.auditor_department_ids or caller.is_platform_auditor
        )


class SeesCatalogue(IsMember):
    """The departments and the responsibility list: any member, and applications with scope
    `read` or `requests` (an application that submits requests finds what to request there)."""

    scopes = ("read", "requests")


class ActsForDepartment(IsMember):
    """Applications (scope `read`) and officers: reads of records act for a department."""

    message = _("Only applications and data officers read records.")

    def person_may(self, caller) -> bool:
        return caller.department is not None


class FollowsRequests(IsMember):
    """Listing and reading requests: the officers of a department, and its applications with
    scope `read` or `requests`; which requests are shown is the department's business (both
    sides of each request)."""

    scopes = ("read", "requests")
    message = _(
        "Requests are followed by the data officers and applications of the departments "
        "concerned; auditors find the decisions on requests in the audit log."
    )

    def person_may(self, caller) -> bool:
        return caller.department is not None


class MayWorkOnRequests(IsMember):
    """Submitting and acting on requests: officers, and applications with scope `requests`."""

    scopes = ("requests",)
    message = _(
        "Only data officers, and applications with the “requests” scope, submit requests and "
        "act on them."
    )

    def scope_refusal(self) -> str:
        return gettext(
            "Submitting requests and acting on them needs the “requests” scope, which this token "
            "does not hold."
        )

    def person_may(self, caller) -> bool:
        return caller.department is not None


class FollowsObjections(IsMember):
    """Listing and reading data-quality objections: any department member (which ones is the
    objections policy's business), and applications with scope `read` or `requests`, so that
    an application that reports an objection can follow it."""

    scopes = ("read", "requests")


class MayWorkOnObjections(MayWorkOnRequests):
    """Reporting, answering and withdrawing objections: officers, and applications with scope
    `requests`."""

    message = _(
        "Only data officers, and applications with the “requests” scope, report and answer "
        "objections."
    )

    def scope_refusal(self) -> str:
        return gettext(
            "Reporting and answering objections needs the “requests” scope, which this token "
            "does not hold."
        )
