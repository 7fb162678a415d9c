from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "pw-Secret-123"  # tests.factories.UserFactory's password


@pytest.fixture
def otp_on(settings):
    settings.GOVDATA = {**settings.GOVDATA, "REQUIRE_OTP": True}


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3


def totp_now(device: TOTPDevice) -> str:
    device.refresh_from_db()
    code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{code:0{device.digits}d}"


def admin_login(
    client: Client,
    username: str,
    password: str = PASSWORD,
    otp_token: str = "",
    ip: str = "192.0.2.10",
):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "otp_token": otp_token, "next": "/admin/"},
        REMOTE_ADDR=ip,
    )
