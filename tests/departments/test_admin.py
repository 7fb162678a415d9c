"""Platform admins manage departments and memberships; officers do not; auditors only look."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.departments.models import Department, Membership
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def test_officer_cannot_reach_departments_or_memberships(client, world):
    client.force_login(world.provider_officer)
    assert client.get(reverse("admin:departments_department_changelist")).status_code == 403
    assert client.get(reverse("admin:departments_membership_add")).status_code == 403


def test_auditor_sees_departments_read_only(client, world):
    client.force_login(world.platform_auditor)
    assert client.get(reverse("admin:departments_department_changelist")).status_code == 200
    assert client.get(reverse("admin:departments_department_add")).status_code == 403


def test_platform_admin_adds_a_department_with_its_acting_group(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:departments_department_add"),
        {"code": "SJ", "name": "省市场监督管理局", "level": "province", "region": "",
         "email": "", "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:1500]
    department = Department.objects.get(code="SJ")
    assert department.group.name == "dept:SJ"


def test_platform_admin_adds_and_removes_a_member_keeping_the_group_in_step(
    client, admin_user, world
):
    user = UserFactory(username="new-officer")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:departments_membership_add"),
        {"user": user.pk, "department": world.consumer.pk, "role": "officer"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_staff and user.groups.filter(pk=world.consumer.group_id).exists()
    membership = Membership.objects.get(user=user)
    response = client.post(
        reverse("admin:departments_membership_delete", args=[membership.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not user.groups.filter(pk=world.consumer.group_id).exists()
