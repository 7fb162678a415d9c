"""Admin behaviour shared by several apps."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _


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
