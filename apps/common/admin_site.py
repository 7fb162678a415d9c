"""The admin site: a TOTP code is part of the login for officers, auditors and superusers."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.common.otp import otp_enforced_for, otp_session_verified, otp_verify


class OTPAdminAuthenticationForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        label=_("One-time code"),
        required=False,
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
        help_text=_(
            "The 6-digit code from your authenticator app. Required for department officers, "
            "auditors and administrators; ask a platform administrator to enrol your device."
        ),
    )
    error_messages = {
        **AdminAuthenticationForm.error_messages,
        # One message for a wrong password and a wrong code, so the form never confirms that
        # a guessed password was right.
        "invalid_login": _(
            "Please enter a correct %(username)s, password and one-time code. "
            "Note that both fields may be case-sensitive."
        ),
    }

    def clean(self) -> dict:
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and otp_enforced_for(user=user):
            device = otp_verify(user=user, token=cleaned.get("otp_token") or "")
            if device is None:
                # Counted by django-axes like a wrong password: guessing codes also locks out.
                user_login_failed.send(
                    sender=__name__,
                    credentials={"username": cleaned.get("username")},
                    request=self.request,
                )
                self.user_cache = None
                raise self.get_invalid_login_error()
            # django_otp's user_logged_in handler stores the device in the new session.
            user.otp_device = device
        return cleaned


class GovDataAdminSite(admin.AdminSite):
    site_header = _("GovData Exchange administration")
    site_title = _("GovData Exchange")
    index_title = _("Administration")
    login_form = OTPAdminAuthenticationForm
    login_template = "common/admin_login.html"
    index_template = "admin/govdata_index.html"
    # "View site": the platform's only page outside the admin is the API's documentation.
    site_url = "/api/docs/"

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and otp_session_verified(user=request.user)

    def index(self, request: HttpRequest, extra_context: dict | None = None):
        from apps.common.worklist import worklist_for

        return super().index(request, {**(extra_context or {}), "worklist": worklist_for(request)})

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list:
        # The login page asks for the app list too; someone not (yet) let in gets none, and no
        # model admin's permission code runs for an anonymous or unverified user.
        if not self.has_permission(request):
            return []
        return super().get_app_list(request, app_label)
