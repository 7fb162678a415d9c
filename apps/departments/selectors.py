"""Reads about who belongs to which department, and in which role."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet

from apps.departments.models import PLATFORM_AUDITORS_GROUP, Department, Membership


def departments_for_user(
    *, user: AbstractBaseUser, role: str | None = None
) -> QuerySet[Department]:
    memberships = Membership.objects.filter(user=user)
    if role is not None:
        memberships = memberships.filter(role=role)
    return Department.objects.filter(pk__in=memberships.values("department_id"))


def department_code_exists(*, code: str) -> bool:
    """Whether a department has `code`, whatever its case (codes are unique whatever their
    case, apps.departments.models)."""
    return Department.objects.filter(code__iexact=code).exists()


def user_department_ids(*, user: AbstractBaseUser, role: str | None = None) -> set[int]:
    """Cached on the user object for the life of a request."""
    cache = user.__dict__.setdefault("_govdata_department_ids", {})
    if role not in cache:
        qs = Membership.objects.filter(user=user)
        if role is not None:
            qs = qs.filter(role=role)
        cache[role] = set(qs.values_list("department_id", flat=True))
    return cache[role]


def user_is_platform_auditor(*, user: AbstractBaseUser) -> bool:
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=PLATFORM_AUDITORS_GROUP).exists()


def user_works_in_departments(*, user: AbstractBaseUser) -> bool:
    """An active staff member of some department (officer or auditor), or a platform auditor:
    whom the department-facing admin pages (requests, grants, objections) are for; which rows
    each sees is its app's selectors' business."""
    return (
        user.is_active
        and user.is_staff
        and (bool(user_department_ids(user=user)) or user_is_platform_auditor(user=user))
    )


def acts_for_department(
    *, department_id: int, user=None, agency=None, superuser_acts: bool = False
) -> bool:
    """An officer of the department (a superuser too when `superuser_acts`), or an active agency
    application of it."""
    if agency is not None:
        return bool(getattr(agency, "is_active", True)) and agency.department_id == department_id
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if superuser_acts and user.is_superuser:
        return True
    return department_id in user_department_ids(user=user, role=Membership.Role.OFFICER)


def department_acting_for_user(*, user: AbstractBaseUser) -> Department | None:
    """The department a logged-in officer acts for when calling the API from the browser."""
    membership = (
        Membership.objects.filter(user=user, role=Membership.Role.OFFICER)
        .select_related("department")
        .order_by("department__code")
        .first()
    )
    return membership.department if membership else None
