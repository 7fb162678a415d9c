"""Admin behaviour shared by several apps."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


def admin_datetime(at: dt.datetime) -> str:
    """`at` as the admin shows a date-time field: local time, in the reader's format."""
    return formats.localize(timezone.template_localtime(at))


def apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's refusal shown on the admin form that collected its input: each message
    beside the field it names, the rest at the top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def form_submitted(
    request: HttpRequest, form: forms.Form, act: Callable[[dict], tuple[str, str]]
) -> HttpResponseRedirect | None:
    """The POST of an admin page whose form feeds a service: `act(cleaned_data)` makes the
    change and says where to go next and what to tell (url, message). A service's refusal
    becomes form errors; None means: show the form (again)."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        url, done = act(form.cleaned_data)
    except ValidationError as exc:
        apply_errors(form, exc)
        return None
    messages.success(request, done)
    return HttpResponseRedirect(url)


class ReadOnlyAdminMixin:
    """Records that only services write (versions, grants history, audit events): the admin
    shows them and never adds, changes or deletes them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """A plain table: no row titles (the objects' str() are ids) and no delete column. The
    app's own subclass says who may view it."""

    template = "admin/readonly_tabular.html"
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class TransitionInline(ReadOnlyInline):
    """The history of a case (apps.common.models.StatusTransition), its states by their labels
    in `status_choices`; a state that is not one of them is shown as recorded."""

    status_choices: type[models.TextChoices]
    fields = readonly_fields = ("at", "from_label", "to_label", "actor_label", "reason")
    ordering = ("at", "id")

    def _label(self, code: str) -> str:
        choices = self.status_choices
        return choices(code).label if code in choices.values else code

    @admin.display(description=_("from"))
    def from_label(self, obj) -> str:
        return self._label(obj.from_status)

    @admin.display(description=_("to"))
    def to_label(self, obj) -> str:
        return self._label(obj.to_status)


class _RelatedShown:
    """A read-only related object (foreign key or one-to-one) of an admin page, as a link to its
    page when the viewer may open that page, else as plain text. Stands in the page's field
    lists for the field's name: equal to any other stand-in of the same field, so that the ones
    made for the form and for the page agree, and never to the name, so that Django does not
    take the model field back and link it whatever the viewer's rights."""

    boolean = False

    def __init__(self, field: models.Field, request: HttpRequest, site: admin.AdminSite) -> None:
        self.name = self.__name__ = field.name
        self.short_description = field.verbose_name
        self._request, self._site = request, site

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _RelatedShown) and other.name == self.name

    def __hash__(self) -> int:
        return hash((_RelatedShown, self.name))

    def __call__(self, obj: models.Model) -> Any:
        value = getattr(obj, self.name)
        if value is None:
            return "-"
        url = self._url(value)
        return format_html('<a href="{}">{}</a>', url, value) if url else str(value)

    def _url(self, value: models.Model) -> str | None:
        model_admin = self._site._registry.get(type(value))
        if model_admin is None or not model_admin.has_view_permission(self._request, value):
            return None
        # Rows are often narrowed by the admin's queryset rather than by its permissions.
        if not model_admin.get_queryset(self._request).filter(pk=value.pk).exists():
            return None
        opts = value._meta
        try:
            return reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change",
                args=[value.pk],
                current_app=self._site.name,
            )
        except NoReverseMatch:
            return None


class RelatedLinksByPermissionMixin:
    """For a ModelAdmin whose read-only pages show related objects of other departments (the
    requesting department, who submitted, who decided): Django links every related object to
    its admin page without asking whether the viewer may open it, so officers met links that
    end in 403. Here a read-only foreign key or one-to-one field is a link only when the viewer
    may view that object in its admin (the permission and the admin's queryset), else plain
    text. Works for names in `fields`, `fieldsets` or `readonly_fields`."""

    def _related_shown(self, request: HttpRequest, names, readonly=None) -> list:
        """`names` with each read-only related field (all of them unless `readonly` says
        which) replaced by its stand-in."""
        shown = []
        for name in names:
            if isinstance(name, list | tuple):  # several fields on one line of a fieldset
                shown.append(tuple(self._related_shown(request, name, readonly)))
                continue
            field = None
            # Not a model field: an admin method or attribute, kept as it is.
            with contextlib.suppress(FieldDoesNotExist):
                field = self.model._meta.get_field(name) if isinstance(name, str) else None
            related = field is not None and (field.many_to_one or field.one_to_one)
            if related and not field.auto_created and (readonly is None or name in readonly):
                name = _RelatedShown(field, request, self.admin_site)
            shown.append(name)
        # A field named by the form and by the read-only list appears once.
        return list(dict.fromkeys(shown))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        names = super().get_readonly_fields(request, obj)
        # The names stay too: the form leaves out what is read-only by its name.
        return [*names, *(n for n in self._related_shown(request, names) if n not in names)]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        # Without the right to change, Django shows every field read-only.
        readonly = None
        if self.has_change_permission(request, obj):
            readonly = set(self.get_readonly_fields(request, obj))
        return [
            (title, {**opts, "fields": self._related_shown(request, opts["fields"], readonly)})
            for title, opts in super().get_fieldsets(request, obj)
        ]
