"""The platform admin's account pages: users and their authenticator apps.

django-guardian keeps an `AnonymousUser` account for its anonymous permissions; nobody signs in
with it, so it is left out of every user list and choice here. The TOTP enrolment page of
django-otp is English only and asks for a raw user id; ours names things in the user's language
and offers the accounts by name.

A device's secret key is what its one-time codes are computed from: whoever sees it can sign in
as its owner (with the password). The admin shows it only through the device's QR code page
(and its image), and each showing is an audit event; the change form of an existing device no
longer shows the key."""

from __future__ import annotations

import segno
from django import forms
from django.contrib import admin
from django.contrib.admin.filters import BooleanFieldListFilter, DateFieldListFilter
from django.contrib.admin.utils import display_for_value
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.conf import settings as otp_settings
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice
from guardian.conf import settings as guardian_settings

User = get_user_model()

QRCODE_VIEW_ACTION = "otp_device.qrcode_view"


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


def totp_device_secret_shown(*, device: TOTPDevice, request: HttpRequest, shown: str) -> None:
    """Record that `request`'s user is about to see `device`'s secret (its QR code `page` or
    its `image`): recorded first, so that nobody sees a secret the log does not know of."""
    from apps.audit.services import audit_record_admin, origin_of

    audit_record_admin(
        action=QRCODE_VIEW_ACTION,
        actor=request.user,
        target=f"otp_device:{device.pk}",
        details={"username": device.user.get_username(), "name": device.name, "shown": shown},
        origin=origin_of(request),
    )


def qrcode_data_uri(text: str) -> str:
    """`text` as a QR code, an SVG image in a data: URI, drawn at a size a phone reads
    (django-otp's SVG has no viewBox: an <img> cannot scale it up)."""
    return segno.make(text).svg_data_uri(scale=5)


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
        # The key is entered when a device is added; afterwards only the audited QR code page
        # shows it.
        hidden = {"key"} if obj is not None else set()
        return [
            (
                titles.get(title, title),
                {
                    **options,
                    "fields": [shown.get(f, f) for f in options["fields"] if f not in hidden],
                },
            )
            for title, options in super().get_fieldsets(request, obj)
        ]

    def get_list_display(self, request):
        # "created_at"/"last_used_at" are columns headed by their untranslated field names.
        # "user" and "name" too: django-otp gives those fields no translatable names.
        shown = {
            "user": "owner",
            "name": "device_name",
            "created_at": "created",
            "last_used_at": "last_used",
            "confirmed": "is_confirmed",
        }
        return [shown.get(name, name) for name in super().get_list_display(request)]

    def _shown(self, value) -> str:
        # The change form prints a read-only method's value with str(): "None" for a device
        # never used, a time in UTC with microseconds. Shown as the admin shows a field's value:
        # the empty value, or a localised local time (the change list takes the text as it is).
        return display_for_value(value, self.get_empty_value_display())

    @admin.display(description=_("user"), ordering=f"user__{User.USERNAME_FIELD}")
    def owner(self, device):
        return device.user

    @admin.display(description=_("device name"), ordering="name")
    def device_name(self, device):
        return device.name

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

    def _device_shown(self, request: HttpRequest, pk: int, shown: str) -> TOTPDevice:
        # django-otp's checks, and a 404 (not a 500) for a device that does not exist.
        if otp_settings.OTP_ADMIN_HIDE_SENSITIVE_DATA:
            raise PermissionDenied
        device = get_object_or_404(TOTPDevice.objects.select_related("user"), pk=pk)
        if not self.has_view_or_change_permission(request, device):
            raise PermissionDenied
        totp_device_secret_shown(device=device, request=request, shown=shown)
        return device

    def config_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The QR code page, titled and placed in the admin like the device's own pages. The
        image is in the page itself: one showing, one audit event."""
        device = self._device_shown(request, pk, "page")
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("QR code"),
            "subtitle": str(device),
            "opts": self.opts,
            "device": device,
            "qrcode": qrcode_data_uri(device.config_url),
        }
        return TemplateResponse(request, "admin/otp_totp/totpdevice/config.html", context)

    def qrcode_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        # The image alone, as django-otp serves it: no page of ours asks for it any more.
        self._device_shown(request, pk, "image")
        return super().qrcode_view(request, pk)


def register(site: admin.AdminSite) -> None:
    """Replaces the registrations of django.contrib.auth and django-otp, whichever app's admin
    module was imported first."""
    for model, model_admin in ((User, PeopleUserAdmin), (TOTPDevice, GovDataTOTPDeviceAdmin)):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
