"""Writes for departments and their members."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction

from apps.departments.models import PLATFORM_AUDITORS_GROUP, Department, Membership


def department_group_name(code: str) -> str:
    return f"dept:{code}"


@transaction.atomic
def department_create(
    *,
    code: str,
    name: str,
    parent: Department | None = None,
    level: str = Department.Level.PROVINCE,
    region: str = "",
    email: str = "",
) -> Department:
    group, _ = Group.objects.get_or_create(name=department_group_name(code))
    department = Department(
        code=code, name=name, parent=parent, level=level, region=region, email=email, group=group
    )
    department.full_clean(exclude=["group"])
    department.save()
    return department


def _audit_role_change(*, action: str, by, user, department: Department, role: str) -> None:
    from apps.audit.services import audit_record_admin

    audit_record_admin(
        action=action,
        actor=by,
        department=department,
        target=f"user:{user.pk}",
        details={"username": user.get_username(), "role": role, "department": department.code},
    )


@transaction.atomic
def membership_add(
    *, user: AbstractBaseUser, department: Department, role: str, by: AbstractBaseUser | None = None
) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, department=department, role=role
    )
    user.groups.add(department.group)
    if created:
        _audit_role_change(
            action="membership.add", by=by, user=user, department=department, role=role
        )
    if not user.is_staff:
        user.is_staff = True  # members work in the admin
        user.save(update_fields=["is_staff"])
    return membership


@transaction.atomic
def membership_remove(
    *, user: AbstractBaseUser, department: Department, role: str, by: AbstractBaseUser | None = None
) -> None:
    deleted, _ = Membership.objects.filter(user=user, department=department, role=role).delete()
    if deleted:
        _audit_role_change(
            action="membership.remove", by=by, user=user, department=department, role=role
        )
    if not Membership.objects.filter(user=user, department=department).exists():
        user.groups.remove(department.group)


def platform_auditor_add(*, user: AbstractBaseUser) -> None:
    group, _ = Group.objects.get_or_create(name=PLATFORM_AUDITORS_GROUP)
    user.groups.add(group)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
