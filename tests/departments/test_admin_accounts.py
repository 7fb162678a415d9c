"""The platform admin's authenticator app pages: the device list, its change form and its QR
code page, which shows the device's secret and is an audit event each time."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AuditEvent
from apps.departments.admin_accounts import QRCODE_VIEW_ACTION
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


def test_the_device_list_heads_every_column_in_the_readers_language(client, admin_user, device):
    client.force_login(admin_user)
    page = client.get(
        reverse("admin:otp_totp_totpdevice_changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    headings = re.findall(r'<th scope="col" class="[^"]*column-\w+[^"]*">(.*?)</th>', page, re.S)
    texts = [re.sub(r"<[^>]+>|\s+", "", html) for html in headings]
    assert texts[:2] == ["用户", "设备名称"]
    assert f">{device.user.username}</a>" in page  # the owner still links to the device


def _qr_page(client, device, **headers):
    return client.get(
        reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk}), **headers
    )


def _shown_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=QRCODE_VIEW_ACTION).order_by("seq"))


def test_the_qr_code_page_has_a_title_heading_and_breadcrumbs(client, admin_user, device):
    client.force_login(admin_user)
    page = _qr_page(client, device, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "<title>手机 (officer-ga) | 二维码 | " in page
    assert "<h1>二维码</h1>" in page and "<h2>手机 (officer-ga)</h2>" in page
    change = reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    breadcrumbs = re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S).group(1)
    assert [re.sub(r"\s+", " ", part).strip() for part in breadcrumbs.split("&rsaquo;")] == [
        '<a href="/admin/">首页</a>',
        '<a href="/admin/otp_totp/">一次性验证码</a>',
        '<a href="/admin/otp_totp/totpdevice/">身份验证器应用</a>',
        f'<a href="{change}">手机 (officer-ga)</a>',
        "二维码",
    ]


def test_the_qr_code_page_shows_the_code_itself_and_records_who_saw_it(client, admin_user, device):
    client.force_login(admin_user)
    page = _qr_page(client, device, REMOTE_ADDR="198.51.100.7").content.decode()
    # The image is in the page: loading the page is the one showing.
    assert 'src="data:image/svg+xml' in page and "/qrcode/" not in page
    assert device.config_url.replace("&", "&amp;") in page
    [event] = _shown_events()
    assert event.kind == "admin" and event.user_id == admin_user.pk
    assert event.client_ip == "198.51.100.7"
    assert event.target == f"otp_device:{device.pk}"
    assert event.details == {"username": "officer-ga", "name": "手机", "shown": "page"}


def test_the_qr_code_image_alone_is_recorded_too(client, admin_user, device):
    client.force_login(admin_user)
    response = client.get(reverse("admin:otp_totp_totpdevice_qrcode", kwargs={"pk": device.pk}))
    assert response.status_code == 200
    assert [e.details["shown"] for e in _shown_events()] == ["image"]


def test_who_may_not_see_the_device_gets_no_qr_code_page_and_no_event(client, device, world):
    client.force_login(world.provider_officer)
    assert _qr_page(client, device).status_code == 403
    assert _shown_events() == []


def test_the_qr_code_page_of_no_device_is_not_found(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": 999999}))
    assert response.status_code == 404
    assert _shown_events() == []


def test_an_existing_devices_change_form_does_not_show_its_secret_key(client, admin_user, device):
    # Else the audited QR code page would be one click away from an unaudited copy.
    client.force_login(admin_user)
    page = client.get(reverse("admin:otp_totp_totpdevice_change", args=[device.pk]))
    assert page.status_code == 200
    assert device.key not in page.content.decode() and 'name="key"' not in page.content.decode()
