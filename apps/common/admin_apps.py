"""App configs that put our admin site and our words on Django's and third-party apps.

The admin index lists apps and models by their verbose names. Those of django-axes,
django-oauth-toolkit and django-otp's TOTP plugin are English only (or, for some models, not
translatable at all), so the platform admin saw an English island in a Chinese admin. Each
config below keeps its app's label and start-up code and only renames it and its models."""

from __future__ import annotations

from axes.apps import AppConfig as AxesAppConfig
from django.apps import apps
from django.contrib.admin.apps import AdminConfig
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPAppConfig
from oauth2_provider.apps import DOTConfig


class GovDataAdminConfig(AdminConfig):
    """Replaces `django.contrib.admin` in INSTALLED_APPS: same app, our admin site as default."""

    default_site = "apps.common.admin_site.GovDataAdminSite"


def _rename(app_label: str, names: dict[str, tuple]) -> None:
    for model_name, (singular, plural) in names.items():
        meta = apps.get_model(app_label, model_name)._meta
        meta.verbose_name, meta.verbose_name_plural = singular, plural


class GovDataAxesConfig(AxesAppConfig):
    verbose_name = _("Sign-in lockouts")

    def ready(self) -> None:
        super().ready()
        _rename(
            "axes",
            {
                "AccessAttempt": (_("failed sign-in record"), _("failed sign-in records")),
                "AccessFailureLog": (_("failed sign-in log entry"), _("failed sign-in log")),
                "AccessLog": (_("sign-in log entry"), _("sign-in log")),
                "AccessAttemptExpiration": (
                    _("lockout expiry"),
                    _("lockout expiries"),
                ),
            },
        )


class GovDataOAuthConfig(DOTConfig):
    verbose_name = _("OAuth2 clients and tokens")

    def ready(self) -> None:
        super().ready()
        _rename(
            "oauth2_provider",
            {
                "Application": (_("OAuth2 client"), _("OAuth2 clients")),
                "AccessToken": (_("access token"), _("access tokens")),
                "RefreshToken": (_("refresh token"), _("refresh tokens")),
                "Grant": (_("authorization code"), _("authorization codes")),
                "IDToken": (_("ID token"), _("ID tokens")),
                "DeviceGrant": (_("device authorization"), _("device authorizations")),
            },
        )


class GovDataTOTPConfig(TOTPAppConfig):
    verbose_name = _("One-time codes")

    def ready(self) -> None:
        super().ready()
        _rename("otp_totp", {"TOTPDevice": (_("authenticator app"), _("authenticator apps"))})
