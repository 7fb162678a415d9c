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


def department_acting_for_user(*, user: AbstractBaseUser) -> Department | None:
    """The department a logged-in officer acts for when calling the API from the browser."""
    membership = (
        Membership.objects.filter(user=user, role=Membership.Role.OFFICER)
        .select_related("department")
        .order_by("department__code")
        .first()
    )
    return membership.department if membership else None
