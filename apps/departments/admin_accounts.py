"""The platform admin's account pages: users and their authenticator apps.

django-guardian keeps an `AnonymousUser` account for its anonymous permissions; nobody signs in
with it, so it is left out of every user list and choice here. The TOTP enrolment page of
django-otp is English only and asks for a raw user id; ours names things in the user's language
and offers the accounts by name."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.filters import BooleanFieldListFilter, DateFieldListFilter
from django.contrib.admin.utils import display_for_value
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.conf import settings as guardian_settings

User = get_user_model()


def people(qs: QuerySet | None = None) -> QuerySet:
    """User accounts that belong to people: without guardian's anonymous account."""
    qs = User.objects.all() if qs is None else qs
    return qs.exclude(**{User.USERNAME_FIELD: guardian_settings.ANONYMOUS_USER_NAME})


def _titled(filter_class, title):
    """A list filter under our title (the default one is the untranslated field name)."""

    class Titled(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


class PeopleUserAdmin(UserAdmin):
    def get_queryset(self, request):
        return people(super().get_queryset(request))


class TOTPDeviceForm(forms.ModelForm):
    class Meta:
        model = TOTPDevice
        fields = ["user", "name", "confirmed", "key", "step", "t0", "digits", "tolerance",
                  "drift", "throttling_failure_timestamp", "throttling_failure_count"]  # fmt: skip
        labels = {
            "user": _("user"),
            "name": _("device name"),
            "confirmed": _("confirmed"),
            "key": _("secret key"),
            "step": _("time step"),
            "t0": _("start time (t0)"),
            "digits": _("digits"),
            "tolerance": _("tolerance"),
            "drift": _("clock drift"),
            "throttling_failure_timestamp": _("last failed attempt"),
            "throttling_failure_count": _("failed attempts in a row"),
        }
        help_texts = {
            "user": _("The person who signs in with this authenticator app."),
            "name": _("A name to tell this person's devices apart, e.g. “phone”."),
            "confirmed": _("Only a confirmed device is accepted at sign-in."),
            "key": _(
                "A hex-encoded secret of up to 40 bytes. Leave the one offered: the QR code "
                "on the device's page carries it to the app."
            ),
            "step": _("Seconds each code is valid (30 for usual apps)."),
            "t0": _("The Unix time at which counting steps begins (0 for usual apps)."),
            "digits": _("Digits in a code (6 for usual apps)."),
            "tolerance": _("Time steps before or after now that are still accepted."),
            "drift": _("Time steps the app's clock is known to be off by."),
            "throttling_failure_timestamp": _(
                "When the last wrong code was entered; further tries wait longer."
            ),
            "throttling_failure_count": _("Wrong codes entered in a row."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            self.fields["user"].queryset = people().order_by(User.USERNAME_FIELD)


class GovDataTOTPDeviceAdmin(TOTPDeviceAdmin):
    form = TOTPDeviceForm
    raw_id_fields = []  # a choice of names, not an id to look up
    readonly_fields = ["created", "last_used", "qrcode_link"]
    list_filter = [
        ("created_at", _titled(DateFieldListFilter, _("created at"))),
        ("last_used_at", _titled(DateFieldListFilter, _("last used at"))),
        ("confirmed", _titled(BooleanFieldListFilter, _("confirmed"))),
    ]
    search_help_text = _("Search by user name or e-mail address.")

    def get_fieldsets(self, request, obj=None):
        titles = {
            "Identity": _("Who"),
            "Timestamps": _("When"),
            "Configuration": _("Code settings"),
            "State": _("State"),
            "Throttling": _("Wrong codes"),
        }
        # The timestamps are shown through our columns, which carry translated names.
        shown = {"created_at": "created", "last_used_at": "last_used"}
        return [
            (
                titles.get(title, title),
                {**options, "fields": [shown.get(f, f) for f in options["fields"]]},
            )
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_list_display(self, request):
        # "created_at"/"last_used_at" are columns headed by their untranslated field names.
        shown = {"created_at": "created", "last_used_at": "last_used", "confirmed": "is_confirmed"}
        return [shown.get(name, name) for name in super().get_list_display(request)]

    def _shown(self, value) -> str:
        # The change form prints a read-only method's value with str(): "None" for a device
        # never used, a time in UTC with microseconds. Shown as the admin shows a field's value:
        # the empty value, or a localised local time (the change list takes the text as it is).
        return display_for_value(value, self.get_empty_value_display())

    @admin.display(description=_("created at"), ordering="created_at")
    def created(self, device):
        return self._shown(device.created_at)

    @admin.display(description=_("last used at"), ordering="last_used_at")
    def last_used(self, device):
        return self._shown(device.last_used_at)

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def is_confirmed(self, device):
        return device.confirmed

    @admin.display(description=_("QR code"))
    def qrcode_link(self, device):
        href = reverse("admin:otp_totp_totpdevice_config", kwargs={"pk": device.pk})
        return format_html('<a href="{}">{}</a>', href, _("show the QR code"))


def register(site: admin.AdminSite) -> None:
    """Replaces the registrations of django.contrib.auth and django-otp, whichever app's admin
    module was imported first."""
    for model, model_admin in ((User, PeopleUserAdmin), (TOTPDevice, GovDataTOTPDeviceAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
