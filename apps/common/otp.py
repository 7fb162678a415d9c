"""TOTP second factor for the people who can see or change other departments' data.

Who needs it: superusers, members of a department (officers and auditors) and platform
auditors. Enforcement follows settings.GOVDATA["REQUIRE_OTP"] (on by default, off in the test
settings so that `force_login` keeps working; tests of the login itself switch it on).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.departments.selectors import user_department_ids, user_is_platform_auditor

DEFAULT_DEVICE_NAME = "default"


def otp_required_for(*, user: AbstractBaseUser) -> bool:
    """Whether this account must present a one-time code, whatever the setting says."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(user_department_ids(user=user)) or user_is_platform_auditor(user=user)


def otp_enforced_for(*, user: AbstractBaseUser) -> bool:
    return bool(settings.GOVDATA.get("REQUIRE_OTP", True)) and otp_required_for(user=user)


def otp_device_ensure(user: AbstractBaseUser, *, name: str = DEFAULT_DEVICE_NAME) -> str:
    """Give the user a confirmed TOTP device if they have none; return its otpauth:// URI.

    The URI carries the secret: show it only to the user (QR code or authenticator app import).
    Idempotent, so the demo loader and `manage.py otp_enroll` can call it on every run.
    """
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
    return device.config_url


def otp_device_reset(user: AbstractBaseUser, *, name: str = DEFAULT_DEVICE_NAME) -> str:
    """Replace the user's TOTP devices with a new one (lost phone); return the new URI."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
    return device.config_url


def otp_verify(*, user: AbstractBaseUser, token: str) -> Device | None:
    """The device that accepts this code, or None. Wrong codes are throttled per device."""
    token = "".join(token.split())
    if not token.isdigit() or len(token) > 8:
        return None
    # Each device checked on its own (not django_otp.match_token), locked so that two concurrent
    # logins cannot both spend the same code; a used code is refused afterwards (TOTP last_t).
    with transaction.atomic():
        devices = TOTPDevice.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices.order_by("pk"):
            if device.verify_token(token):
                return device
    return None


def otp_session_verified(*, user: AbstractBaseUser) -> bool:
    """Whether a logged-in session may act: True unless the account needs a second factor and
    this session has not passed one (django_otp's middleware gives request.user is_verified)."""
    if not otp_enforced_for(user=user):
        return True
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())
