"""Departments act through their group; members join it, auditors included."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.departments.selectors import (
    department_acting_for_user,
    user_department_ids,
    user_is_platform_auditor,
)
from apps.departments.services import department_create, membership_add, membership_remove
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_department_gets_its_own_acting_group(db):
    department = department_create(code="RS", name="省人力资源和社会保障厅")
    assert department.group.name == "dept:RS"


def test_duplicate_code_is_refused(db):
    department_create(code="RS", name="人社")
    with pytest.raises(ValidationError):
        department_create(code="RS", name="人社二")


def test_a_department_cannot_be_its_own_ancestor(db):
    province = department_create(code="GD", name="广东省")
    city = department_create(code="GZ", name="广州市", parent=province, level="city")
    province.parent = city
    with pytest.raises(ValidationError):
        province.full_clean()


def test_membership_joins_and_leaves_the_group(db):
    department = department_create(code="MZ", name="民政厅")
    user = UserFactory(username="mz-officer")
    membership_add(user=user, department=department, role="officer")
    assert user.is_staff and user.groups.filter(pk=department.group_id).exists()
    assert user_department_ids(user=user, role="officer") == {department.pk}
    assert department_acting_for_user(user=user) == department
    membership_remove(user=user, department=department, role="officer")
    assert not user.groups.filter(pk=department.group_id).exists()


def test_platform_auditor_is_recognised(world):
    assert user_is_platform_auditor(user=world.platform_auditor)
    assert not user_is_platform_auditor(user=world.provider_officer)


def test_membership_changes_are_audited_as_admin_events(world):
    from apps.audit.models import AuditEvent
    from apps.departments.services import membership_add, membership_remove
    from tests.factories import UserFactory

    user = UserFactory(username="new-officer")
    membership_add(user=user, department=world.provider, role="officer", by=world.provider_officer)
    membership_remove(
        user=user, department=world.provider, role="officer", by=world.provider_officer
    )
    actions = list(
        AuditEvent.objects.filter(
            action__startswith="membership.", body__contains=f'"target":"user:{user.pk}"'
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["membership.add", "membership.remove"]
