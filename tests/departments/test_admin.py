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


@pytest.fixture
def guardian_anonymous(db):
    from guardian.utils import get_anonymous_user

    return get_anonymous_user()


def test_guardians_anonymous_account_is_in_no_user_list_or_choice(
    client, admin_user, world, guardian_anonymous
):
    client.force_login(admin_user)
    for url in (
        reverse("admin:departments_membership_add"),
        reverse("admin:auth_user_changelist"),
        reverse("admin:otp_totp_totpdevice_add"),
    ):
        page = client.get(url).content.decode()
        assert world.provider_officer.username in page, url
        assert guardian_anonymous.username not in page, url


def test_enrolling_an_authenticator_is_in_chinese_and_offers_accounts_by_name(
    client, admin_user, world
):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(admin_user)
    url = reverse("admin:otp_totp_totpdevice_add")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<select name="user"' in page  # not a raw id box
    for english in ("The user that this device belongs to.", "Identity", "Throttling",
                    "A hex-encoded secret key"):  # fmt: skip
        assert english not in page
    key = "3132333435363738393031323334353637383930"
    response = client.post(
        url,
        {"user": world.provider_officer.pk, "name": "手机", "confirmed": "on", "key": key,
         "step": 30, "t0": 0, "digits": 6, "tolerance": 1, "drift": 0,
         "throttling_failure_count": 0},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    assert TOTPDevice.objects.get(user=world.provider_officer).name == "手机"
    listing = client.get(
        reverse("admin:otp_totp_totpdevice_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "创建时间" in listing and ">qrcode<" not in listing  # our column names
