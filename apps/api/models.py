"""Agency applications: an OAuth2 client (client credentials) that acts for one department."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AgencyApplication(models.Model):
    class Scope(models.TextChoices):
        READ = "read", _("Read the catalogue and granted records")
        REQUESTS = "requests", _("Submit and follow data requests")

    application = models.OneToOneField(
        "oauth2_provider.Application",
        verbose_name=_("OAuth2 client"),
        on_delete=models.CASCADE,
        related_name="agency",
    )
    department = models.ForeignKey(
        "departments.Department",
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    allowed_scopes = models.CharField(
        _("allowed scopes"),
        max_length=64,
        default="read",
        help_text=_("Space-separated: read, requests."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    secret_rotated_at = models.DateTimeField(_("secret last set at"), null=True, blank=True)

    class Meta:
        ordering = ["department__code", "application__name"]
        verbose_name = _("agency application")
        verbose_name_plural = _("agency applications")

    def __str__(self) -> str:
        return f"{self.application.name} ({self.department.code})"

    def allows(self, scope: str) -> bool:
        return scope in self.allowed_scopes.split()

    def registered_scopes(self) -> list[str]:
        """The scopes the application was registered with, each once, in Scope's order (the
        stored text is free: it may repeat a code, or name one the platform no longer has)."""
        held = set(self.allowed_scopes.split())
        return [code for code in self.Scope.values if code in held]
