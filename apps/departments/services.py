"""Writes for departments and their members."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from apps.departments.models import (
    PLATFORM_AUDITORS_GROUP,
    Department,
    Membership,
    department_code_clash,
)

CODE_CHANGE_ACTION = "department.code_change"


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


def department_code_check(*, department: Department, code: str) -> None:
    """Raises ValidationError (on "code") unless `code` may replace `department`'s: in the
    format, and no other department's ignoring case (the department's own may change case)."""
    try:
        Department._meta.get_field("code").clean(code, department)
    except ValidationError as exc:
        raise ValidationError({"code": exc.error_list}) from exc
    clash = department_code_clash(code, exclude_pk=department.pk)
    if clash is not None:
        raise ValidationError({"code": clash})
    # The acting group is renamed with the code; a leftover group of that name (a deleted
    # department's, kept by PROTECT) would stay the group of the old name, which a department
    # created later with the old code would then take as its own.
    group = department_group_name(code)
    if Group.objects.filter(name=group).exclude(pk=department.group_id).exists():
        raise ValidationError(
            {
                "code": ValidationError(
                    _("Another group is already named “%(group)s”: rename or delete it first."),
                    code="group_taken",
                    params={"group": group},
                )
            }
        )


@transaction.atomic
def department_code_change(
    *, department: Department, code: str, by: AbstractBaseUser | None = None, origin=None
) -> Department:
    """Correct a department's code, one stored before the code rules (`ex4ui a`) or mistyped.
    The acting group is renamed with it (unless that name is taken, as migration 0002 does).
    What cannot follow is recorded instead: the code is part of earlier audit events' hashed
    bodies, which are never rewritten, and the key of the "hash" masking rule is derived from
    it (govdata.masking.hash_key_for), so the department's applications receive other hashes
    from now on. Hence an audit event naming both codes (`origin`: the admin request)."""
    from apps.audit.services import audit_record_admin

    department_code_check(department=department, code=code)
    current = Department.objects.select_for_update().get(pk=department.pk)
    old = current.code
    if code == old:
        return current
    new_group = department_group_name(code)
    if not Group.objects.filter(name=new_group).exists():
        Group.objects.filter(pk=current.group_id, name=department_group_name(old)).update(
            name=new_group
        )
    current.code = code
    current.save(update_fields=["code"])
    audit_record_admin(
        action=CODE_CHANGE_ACTION,
        actor=by,
        department=current,
        target=f"department:{current.pk}",
        details={"old_code": old, "new_code": code},
        origin=origin,
    )
    department.code = code
    return current


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
