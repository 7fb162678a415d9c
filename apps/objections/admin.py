"""Admin for objections. Officers and department auditors see the objections of their
departments, as provider (incoming) or reporter (outgoing); platform auditors see all. The
changes offered (list links, detail-page buttons, the submission form) are those
apps.objections.policy allows the viewer; they go through apps.objections.services."""

from __future__ import annotations

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import Field
from apps.common import clock
from apps.common.admin_mixins import ReadOnlyAdminMixin, RelatedLinksByPermissionMixin
from apps.departments.admin_inlines import StaffReadOnlyInline, StaffTransitionInline
from apps.departments.selectors import (
    user_works_in_departments,
)
from apps.objections import policy
from apps.objections.admin_views import answer_view, submit_view, withdraw_view
from apps.objections.models import Objection, ObjectionField, ObjectionTransition
from apps.objections.selectors import objections_visible_to
from apps.sharing.admin_filters import DirectionFilter as SharingDirectionFilter
from apps.sharing.admin_inlines import FieldColumnsMixin


class FieldInline(FieldColumnsMixin, StaffReadOnlyInline):
    """The fields concerned as the requests' and grants' pages show theirs: a field removed
    from the list since keeps its name and label and says when and why it was removed."""

    model = ObjectionField
    parent = "objection"
    fields = readonly_fields = ("name_shown", "label_shown", "mask", "field_removed")
    verbose_name_plural = _("fields concerned")
    ordering = ("field__position", "id")

    @admin.display(description=Field._meta.get_field("name").verbose_name)
    def name_shown(self, obj: ObjectionField) -> str:
        return obj.field_name


class TransitionInline(StaffTransitionInline):
    model = ObjectionTransition
    status_choices = Objection.Status


class DirectionFilter(SharingDirectionFilter):
    """Objections to the viewer's departments' data, or reported by them; not offered to
    viewers without a department (platform auditors)."""

    labels = (_("Incoming (our data)"), _("Outgoing (we reported)"))


_ACTION_LABELS = ((policy.ANSWER, _("Answer")), (policy.WITHDRAW, _("Withdraw")))


def _action_urls(user, obj: Objection) -> list[tuple[str, str]]:
    allowed = policy.objection_actions(objection=obj, user=user)
    return [
        (reverse(f"admin:objections_objection_{action}", args=[obj.pk]), label)
        for action, label in _ACTION_LABELS
        if action in allowed
    ]


@admin.register(Objection)
class ObjectionAdmin(RelatedLinksByPermissionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    change_form_template = "admin/objections/change_form.html"
    list_display = ("id", "dataset", "record_key", "consumer", "status", "outcome",
                    "due_by_marked", "created_at")  # fmt: skip
    list_filter = (DirectionFilter, "status", "outcome", "overdue")
    search_fields = ("dataset__code", "dataset__name", "consumer__code", "record_key")
    ordering = ("due_by", "id")
    inlines = (FieldInline, TransitionInline)
    fields = readonly_fields = (
        "dataset", "record_key", "consumer", "description", "proposed_value", "status", "outcome",
        "answer", "answered_by", "answered_by_application_id", "answered_at", "withdrawn_at",
        "due_by", "overdue", "escalated_at", "created_by", "created_by_application_id",
        "created_at", "updated_at",
    )  # fmt: skip

    def has_module_permission(self, request) -> bool:
        return user_works_in_departments(user=request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return user_works_in_departments(user=request.user)  # rows are narrowed by get_queryset

    def has_add_permission(self, request, obj=None) -> bool:
        # "Add" is the submission form (submit_view), offered to data officers only.
        return policy.may_submit_objections(user=request.user)

    def get_queryset(self, request):
        return objections_visible_to(user=request.user)

    def add_view(self, request, form_url="", extra_context=None):
        return submit_view(self, request)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/answer/", wrap(lambda r, pk: answer_view(self, r, pk)),
                 name="objections_objection_answer"),
            path("<int:pk>/withdraw/", wrap(lambda r, pk: withdraw_view(self, r, pk)),
                 name="objections_objection_withdraw"),
        ] + super().get_urls()  # fmt: skip

    def get_list_display(self, request):
        # Bound to this request's viewer: the admin instance is shared between requests.
        user = request.user

        @admin.display(description=_("actions"))
        def action_links(obj: Objection):
            return format_html_join(" · ", '<a href="{}">{}</a>', _action_urls(user, obj))

        return (*self.list_display, action_links)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["action_buttons"] = _action_urls(request.user, obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description=_("answer due by"), ordering="due_by")
    def due_by_marked(self, obj: Objection):
        late = obj.status == Objection.Status.OPEN and (obj.overdue or obj.due_by < clock.today())
        if late:
            return format_html("<strong>{} · {}</strong>", obj.due_by, _("OVERDUE"))
        return obj.due_by
