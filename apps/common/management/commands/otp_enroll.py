"""Give a user a TOTP device and print the otpauth:// URI to load into an authenticator app."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from apps.common.otp import otp_device_ensure, otp_device_reset


class Command(BaseCommand):
    help = "Enrol a user's TOTP second factor and print its otpauth:// URI (contains the secret)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Replace existing devices (lost or compromised phone).",
        )

    def handle(self, *args, username: str, reset: bool, **options) -> None:
        user_model = get_user_model()
        try:
            user = user_model.objects.get(**{user_model.USERNAME_FIELD: username})
        except user_model.DoesNotExist as exc:
            raise CommandError(_("No user named %(username)s.") % {"username": username}) from exc
        uri = otp_device_reset(user) if reset else otp_device_ensure(user)
        self.stdout.write(uri)
