"""The platform admin's authenticator app pages: the device's change form and its QR code."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def device(world):
    return TOTPDevice.objects.create(user=world.provider_officer, name="手机", confirmed=True)


def _readonly(page: str, field: str) -> str:
    found = re.search(rf'field-{field}".*?<div class="readonly">(.*?)</div>', page, re.S)
    assert found, f"no read-only field {field!r}"
    return found.group(1)


def test_a_device_never_used_shows_the_admins_empty_value_for_last_used(client, admin_user, device):
    client.force_login(admin_user)
    page = client.get(
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert _readonly(page, "last_used") == "-"


def test_the_change_form_shows_times_in_local_time_as_the_admin_formats_them(
    client, admin_user, device
):
    used = dt.datetime(2025, 3, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Beijing
    TOTPDevice.objects.filter(pk=device.pk).update(last_used_at=used)
    client.force_login(admin_user)
    page = client.get(
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk]),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    ).content.decode()
    assert _readonly(page, "last_used") == "2025年3月1日 09:30"


def test_a_device_never_used_shows_the_empty_value_in_the_list_too(client, admin_user, device):
    client.force_login(admin_user)
    page = client.get(reverse("admin:otp_totp_totpdevice_changelist")).content.decode()
    assert '<td class="field-last_used">-</td>' in page


def test_the_platform_admin_gets_the_devices_qr_code_as_an_image(client, admin_user, device):
    client.force_login(admin_user)
    response = client.get(reverse("admin:otp_totp_totpdevice_qrcode", kwargs={"pk": device.pk}))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content


def test_the_device_owner_without_admin_rights_on_devices_gets_no_qr_code(client, device, world):
    # The QR code carries the secret: only who may see the device in the admin gets it.
    client.force_login(world.provider_officer)
    url = reverse("admin:otp_totp_totpdevice_qrcode", kwargs={"pk": device.pk})
    assert client.get(url).status_code == 403
