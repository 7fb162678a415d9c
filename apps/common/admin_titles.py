"""Admin pages of a third-party model that name its objects in the reader's language.

The admin names an object by its str(): in the change page's <title>, heading and breadcrumbs,
and in the history and delete pages. The str() of django-axes' records ("Attempted Access:
2026-11-26 10:53:07.015111+00:00") and of django-oauth-toolkit's tokens ("AccessToken #8") is
English, with times in UTC. Their __str__ belongs to the package: replaced on the class, it would
change for every caller (logs, tracebacks, the packages' own code) to serve these pages, and the
admin has no hook for an object's display name. So an admin with this mixin says how it titles
an object (`object_title`) and passes that title to those pages in place of str(obj)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.admin.utils import quote, unquote
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext


def numbered_title(obj: Any) -> str:
    """The model's (translated) name and the object's id: "Access token #8"."""
    return f"{capfirst(obj._meta.verbose_name)} #{obj.pk}"


@dataclass(frozen=True)
class ShownObject:
    """What the history and delete pages use of their `object`: its id (for the links) and its
    text."""

    pk: Any
    title: str

    def __str__(self) -> str:
        return self.title


class ObjectTitleMixin:
    """For a ModelAdmin: the change, history and delete pages name the object by
    `object_title(obj)`. The change page keeps `original` (the object, which templates read
    fields of): its title is the `subtitle`, which our change form template also puts in the
    breadcrumbs."""

    change_form_template = "admin/govdata_titled_change_form.html"

    def object_title(self, obj: Any) -> str:
        return numbered_title(obj)

    def _titled_object(self, request: HttpRequest, object_id: str) -> Any:
        to_field = request.POST.get(TO_FIELD_VAR, request.GET.get(TO_FIELD_VAR))
        if to_field and not self.to_field_allowed(request, to_field):
            return None  # the view itself refuses it
        return self.get_object(request, unquote(object_id), to_field)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None
    ) -> HttpResponse:
        obj = self._titled_object(request, object_id)
        if obj is not None:
            extra_context = {**(extra_context or {}), "subtitle": self.object_title(obj)}
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            title = self.object_title(obj)
            extra_context = {
                **(extra_context or {}),
                "title": gettext("Change history: %s") % title,
                "object": ShownObject(obj.pk, title),
            }
        return super().history_view(request, object_id, extra_context)

    def get_deleted_objects(self, objs, request: HttpRequest) -> tuple:
        """The list of what a deletion takes, with the objects deleted named by their title:
        each entry written as the admin writes it (django.contrib.admin.utils'
        get_deleted_objects) is swapped for the same with the title."""
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        entry = '{}: <a href="{}">{}</a>'
        retitled = {}
        for obj in objs:
            opts = obj._meta
            name = capfirst(opts.verbose_name)
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change",
                args=(quote(obj.pk),),
            )
            retitled[format_html(entry, name, url, obj)] = format_html(
                entry, name, url, self.object_title(obj)
            )

        def swapped(item: Any) -> Any:
            if isinstance(item, list):
                return [swapped(child) for child in item]
            return retitled.get(item, item)

        return swapped(deleted), model_count, perms_needed, protected

    def delete_view(self, request: HttpRequest, object_id: str, extra_context=None):
        obj = self._titled_object(request, object_id)
        if obj is not None:
            title = self.object_title(obj)
            extra_context = {**(extra_context or {}), "object": ShownObject(obj.pk, title)}
            # For the message once it is deleted (response_delete is given str(obj) only).
            request.govdata_object_title = title
        return super().delete_view(request, object_id, extra_context)

    def response_delete(self, request: HttpRequest, obj_display: str, obj_id: Any):
        obj_display = getattr(request, "govdata_object_title", obj_display)
        return super().response_delete(request, obj_display, obj_id)
