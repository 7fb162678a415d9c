"""Officers, auditors and superusers need a TOTP code to log into the admin."""

from __future__ import annotations

import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.common.otp import otp_device_ensure, otp_device_reset, otp_required_for
from tests.factories import UserFactory
from tests.security.conftest import admin_login, totp_now


def _device(user) -> TOTPDevice:
    otp_device_ensure(user)
    return TOTPDevice.objects.get(user=user)


def test_officer_login_without_a_code_fails(world, otp_on, client):
    _device(world.provider_officer)
    response = admin_login(client, world.provider_officer.username)
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("admin:index")).status_code == 302


def test_officer_login_with_the_current_code_reaches_the_admin(world, otp_on, client):
    device = _device(world.provider_officer)
    response = admin_login(client, world.provider_officer.username, otp_token=totp_now(device))
    assert response.status_code == 302, response.content
    assert client.get(reverse("admin:index")).status_code == 200


def test_a_wrong_code_fails_with_the_same_message_as_a_wrong_password(world, otp_on, client):
    device = _device(world.provider_officer)
    wrong_code = f"{(int(totp_now(device)) + 1) % 1_000_000:06d}"
    bad_code = admin_login(client, world.provider_officer.username, otp_token=wrong_code)
    bad_password = admin_login(
        client, world.provider_officer.username, password="wrong", otp_token=totp_now(device)
    )
    assert bad_code.context["form"].non_field_errors() == (
        bad_password.context["form"].non_field_errors()
    )
    assert "_auth_user_id" not in client.session


def test_a_code_cannot_be_used_twice(world, otp_on, client):
    device = _device(world.provider_officer)
    code = totp_now(device)
    assert admin_login(client, world.provider_officer.username, otp_token=code).status_code == 302
    client.logout()
    assert admin_login(client, world.provider_officer.username, otp_token=code).status_code == 200


def test_wrong_codes_are_throttled_then_allowed_again(world, otp_on, client):
    device = _device(world.provider_officer)
    with time_machine.travel("2026-03-02 09:00:00+08:00", tick=False) as traveller:
        wrong_code = f"{(int(totp_now(device)) + 7) % 1_000_000:06d}"
        admin_login(client, world.provider_officer.username, otp_token=wrong_code)
        admin_login(client, world.provider_officer.username, otp_token=wrong_code)
        right_now = totp_now(device)
        response = admin_login(client, world.provider_officer.username, otp_token=right_now)
        assert response.status_code == 200  # still inside the back-off after two failures
        traveller.shift(31)
        response = admin_login(client, world.provider_officer.username, otp_token=totp_now(device))
        assert response.status_code == 302


def test_auditors_platform_auditors_and_superusers_need_a_code(world, otp_on, client):
    superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    for user in (world.provider_auditor, world.platform_auditor, superuser):
        assert otp_required_for(user=user)
    user = world.provider_auditor
    assert admin_login(client, user.username).status_code == 200
    device = _device(user)
    assert admin_login(client, user.username, otp_token=totp_now(device)).status_code == 302


def test_staff_without_a_department_role_logs_in_without_a_code(db, otp_on, client):
    helpdesk = UserFactory(username="helpdesk", is_staff=True)
    assert not otp_required_for(user=helpdesk)
    assert not otp_required_for(user=AnonymousUser())
    assert admin_login(client, "helpdesk").status_code == 302


def test_an_officer_without_a_device_cannot_log_in(world, otp_on, client):
    response = admin_login(client, world.provider_officer.username, otp_token="123456")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_a_session_without_a_verified_device_is_sent_back_to_login(world, otp_on, client):
    client.force_login(world.provider_officer)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_force_login_works_when_otp_is_not_required(world, client):
    # The test settings' default, which the other test modules rely on.
    client.force_login(world.provider_officer)
    assert client.get(reverse("admin:index")).status_code == 200


def test_login_page_shows_the_code_field(db, client):
    response = client.get(reverse("admin:login"))
    assert b'name="otp_token"' in response.content
    assert b'autocomplete="one-time-code"' in response.content


def test_device_ensure_is_idempotent_and_returns_an_otpauth_uri(world):
    first = otp_device_ensure(world.provider_officer)
    second = otp_device_ensure(world.provider_officer)
    assert first == second
    assert first.startswith("otpauth://totp/GovData%20Exchange%3Aofficer-ga?secret=")
    assert "issuer=GovData%20Exchange" in first
    assert TOTPDevice.objects.filter(user=world.provider_officer).count() == 1


def test_device_reset_replaces_the_secret(world):
    first = otp_device_ensure(world.provider_officer)
    assert otp_device_reset(world.provider_officer) != first
    assert TOTPDevice.objects.filter(user=world.provider_officer).count() == 1


def test_otp_enroll_command_prints_the_uri(world, capsys):
    call_command("otp_enroll", world.provider_officer.username)
    printed = capsys.readouterr().out.strip()
    assert printed == otp_device_ensure(world.provider_officer)


def test_session_verification_helper_for_api_session_authentication(world, otp_on, rf):
    from apps.common.otp import otp_session_verified

    officer = world.provider_officer
    assert not otp_session_verified(user=officer)  # no OTP middleware, no verified device
    officer.is_verified = lambda: True
    assert otp_session_verified(user=officer)
    helpdesk = UserFactory(username="helpdesk-2", is_staff=True)
    assert otp_session_verified(user=helpdesk)
