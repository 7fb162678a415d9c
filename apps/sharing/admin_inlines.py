"""Inlines of the request and grant pages in the admin: the fields requested or granted, as the
responsibility list shows them (or as they were, for a field removed from it since), and a
request's history of state changes. apps.objections reuses FieldColumnsMixin."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Field
from apps.common.admin_mixins import admin_datetime
from apps.departments.admin_inlines import StaffReadOnlyInline, StaffTransitionInline
from apps.sharing.models import DataRequest, DataRequestField, GrantField, RequestTransition
from apps.sharing.selectors import with_field_removal


def _field_label(name: str):
    return Field._meta.get_field(name).verbose_name


class FieldColumnsMixin:
    """The field's name and label, as the responsibility list shows them, for inlines of rows
    naming a catalogue field (DataRequestField, GrantField, ObjectionField; `parent`: their
    request, grant or objection). A field removed from the list since keeps the name and label
    it had, and says when and why it was removed (selectors.with_field_removal)."""

    parent: str

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("field")
        return with_field_removal(rows, parent=self.parent)

    @admin.display(description=_field_label("label"))
    def label_shown(self, obj) -> str:
        # The label as the list shows it now; the one it had for a field no longer listed.
        return obj.field.label if obj.field is not None else obj.field_label

    @admin.display(description=_("removed from the list"))
    def field_removed(self, obj) -> str:
        if obj.field is not None:
            return "-"
        if obj.field_removed_at is None:  # removed otherwise than by a publication
            return _("Removed")
        return _("Removed on %(date)s: %(reason)s") % {
            "date": admin_datetime(obj.field_removed_at),
            "reason": obj.field_removed_reason,
        }


def _published(field: Field | None, attribute: str) -> str:
    """A listed field's published sharing type or masking rule by its label; "-" for a field
    no longer listed."""
    if field is None:
        return "-"
    return (
        getattr(field, f"get_published_{attribute}_display")()
        or getattr(field, f"get_{attribute}_display")()
    )


class RequestFieldInline(FieldColumnsMixin, StaffReadOnlyInline):
    model = DataRequestField
    parent = "request"
    fields = readonly_fields = ("field_name", "label_shown", "field_sharing_type",
                                "field_masking", "field_removed")  # fmt: skip
    verbose_name_plural = _("requested fields")
    ordering = ("field__position", "id")

    @admin.display(description=_field_label("sharing_type"))
    def field_sharing_type(self, obj: DataRequestField) -> str:
        return _published(obj.field, "sharing_type")

    @admin.display(description=_field_label("masking"))
    def field_masking(self, obj: DataRequestField) -> str:
        return _published(obj.field, "masking")


class TransitionInline(StaffTransitionInline):
    model = RequestTransition
    status_choices = DataRequest.Status
    fields = readonly_fields = ("at", "from_label", "to_label", "actor_label", "reason_shown")

    @admin.display(description=RequestTransition._meta.get_field("reason").verbose_name)
    def reason_shown(self, obj: RequestTransition) -> str:
        return obj.reason_text  # in the reader's language when the platform wrote it


class GrantFieldInline(FieldColumnsMixin, StaffReadOnlyInline):
    model = GrantField
    parent = "grant"
    fields = readonly_fields = ("field_name", "label_shown", "masking_shown", "mask_override",
                                "removed_at_shown", "removed_reason_shown")  # fmt: skip
    ordering = ("field__position", "id")

    @admin.display(description=_field_label("masking"))
    def masking_shown(self, obj: GrantField) -> str:
        # A field the holder still reads: the rule published now, which applies. One taken
        # away (or no longer listed): the rule it was read under, not what the field became.
        if obj.removed_at is None and obj.field is not None:
            return _published(obj.field, "masking")
        return obj.get_field_masking_display()

    @admin.display(description=GrantField._meta.get_field("removed_at").verbose_name)
    def removed_at_shown(self, obj: GrantField) -> str:
        at = obj.removed_at or obj.field_removed_at
        return admin_datetime(at) if at is not None else "-"

    @admin.display(description=GrantField._meta.get_field("removed_reason").verbose_name)
    def removed_reason_shown(self, obj: GrantField) -> str:
        if obj.removed_at is not None:
            return obj.removed_reason_text or "-"
        if obj.field_removed_at is not None:  # left the list after the grant had ended
            return _("Field %(name)s was removed: %(reason)s") % {
                "name": obj.field_name,
                "reason": obj.field_removed_reason,
            }
        return "-"
