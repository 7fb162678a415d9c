"""`manage.py demo_otp <username>`: the current one-time code of a demo account, so that the
demo admin can be tried without enrolling an authenticator app first."""

from __future__ import annotations

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.common.demo.spec import spec_load


def demo_usernames(spec: dict) -> set[str]:
    names = {f"officer-{d['code'].lower()}" for d in spec["departments"]}
    names |= {a["username"] for a in spec.get("auditors", [])}
    return names | set(spec.get("platform_auditors", [])) | set(spec.get("admins", []))


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo account (demo accounts only)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        if username not in demo_usernames(spec_load()):
            raise CommandError(f"{username} is not a demo account of fixtures/demo_world.yaml")
        user = get_user_model().objects.filter(username=username).first()
        device = (
            TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
            if user
            else None
        )
        if device is None:
            raise CommandError(f"{username} has no TOTP device; run `manage.py demo_load` first")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        code = str(totp.token()).zfill(device.digits)
        left = device.step - int(time.time() - device.t0) % device.step
        self.stdout.write(f"{code}  (valid for {left} s more; each code works once)")
