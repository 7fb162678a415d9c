"""Admin for requests and grants. Officers see only requests and grants where one of their
departments is the provider or the consumer; decisions go through apps.sharing.services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from apps.common import clock
from apps.common.admin_mixins import ReadOnlyAdminMixin
from apps.departments.selectors import user_department_ids, user_is_platform_auditor
from apps.sharing import services
from apps.sharing.admin_views import approve_view, reject_view, revoke_view
from apps.sharing.models import (
    DataRequest,
    DataRequestField,
    Grant,
    GrantField,
    Holiday,
    Notification,
    RequestTransition,
)
from apps.sharing.notifications import notification_mark_read
from apps.sharing.selectors import grants_visible_to, requests_visible_to


def _is_sharing_user(user) -> bool:
    return (
        user.is_active
        and user.is_staff
        and (bool(user_department_ids(user=user)) or user_is_platform_auditor(user=user))
    )


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_sharing_user(request.user)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RequestFieldInline(ReadOnlyInline):
    model = DataRequestField
    fields = readonly_fields = ("field",)
    verbose_name_plural = _("requested fields")


class TransitionInline(ReadOnlyInline):
    model = RequestTransition
    fields = readonly_fields = ("at", "from_status", "to_status", "actor_label", "reason")
    ordering = ("at", "id")


class GrantFieldInline(ReadOnlyInline):
    model = GrantField
    fields = readonly_fields = ("field", "mask_override", "removed_at", "removed_reason")


class SharingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """View-only by default: every change is a decision made through a service."""

    def has_module_permission(self, request) -> bool:
        return _is_sharing_user(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_sharing_user(request.user)  # rows are narrowed by get_queryset


class DirectionFilter(admin.SimpleListFilter):
    title = _("direction")
    parameter_name = "direction"

    def lookups(self, request, model_admin):
        return [("incoming", _("Incoming (we provide)")), ("outgoing", _("Outgoing (we asked)"))]

    def queryset(self, request, queryset):
        ids = user_department_ids(user=request.user)
        if self.value() == "incoming":
            return queryset.filter(dataset__provider_id__in=ids)
        if self.value() == "outgoing":
            return queryset.filter(consumer_id__in=ids)
        return queryset


@admin.register(DataRequest)
class DataRequestAdmin(SharingAdmin):
    list_display = ("id", "dataset", "consumer", "status", "due_by_marked", "created_at",
                    "decision_links")  # fmt: skip
    list_filter = (DirectionFilter, "status", "overdue")
    search_fields = ("dataset__code", "dataset__name", "consumer__code", "purpose")
    ordering = ("due_by", "id")
    inlines = (RequestFieldInline, TransitionInline)
    actions = ("withdraw_selected",)
    readonly_fields = ("consumer", "dataset", "purpose", "legal_basis", "valid_until", "status",
                       "due_by", "overdue", "reminded_at", "escalated_at", "decided_at",
                       "decided_by", "decision_reason", "created_by", "created_by_application_id",
                       "created_at")  # fmt: skip

    def get_queryset(self, request):
        # Whether the viewer may decide, computed per row in SQL (the admin instance is shared
        # between requests, so it must not hold per-user state).
        user = request.user
        ids = user_department_ids(user=user, role="officer")
        can_decide = Value(True) if user.is_superuser else Q(dataset__provider_id__in=ids)
        return requests_visible_to(user=user).annotate(
            can_decide=ExpressionWrapper(can_decide, output_field=BooleanField())
        )

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", wrap(lambda r, pk: approve_view(self, r, pk)),
                 name="sharing_datarequest_approve"),
            path("<int:pk>/reject/", wrap(lambda r, pk: reject_view(self, r, pk)),
                 name="sharing_datarequest_reject"),
        ] + super().get_urls()  # fmt: skip

    @admin.display(description=_("answer due by"), ordering="due_by")
    def due_by_marked(self, obj: DataRequest):
        late = obj.status == DataRequest.Status.SUBMITTED and (
            obj.overdue or obj.due_by < clock.today()
        )
        if late:
            return format_html('<strong style="color:#ba2121">{} · {}</strong>', obj.due_by,
                               _("OVERDUE"))  # fmt: skip
        return obj.due_by

    @admin.display(description=_("decide"))
    def decision_links(self, obj: DataRequest):
        if obj.status != DataRequest.Status.SUBMITTED:
            return ""
        if not getattr(obj, "can_decide", False):
            return ""
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:sharing_datarequest_approve", args=[obj.pk]), _("Approve"),
            reverse("admin:sharing_datarequest_reject", args=[obj.pk]), _("Reject"),
        )  # fmt: skip

    @admin.action(description=_("Withdraw the selected pending requests"))
    def withdraw_selected(self, request, queryset):
        done = 0
        for obj in queryset:
            try:
                services.request_withdraw(request=obj, by=request.user)
                done += 1
            except (PermissionDenied, ValidationError) as exc:
                messages.error(request, f"#{obj.pk}: {exc}")
        if done:
            messages.success(request, _("%(n)d request(s) withdrawn.") % {"n": done})


@admin.register(Grant)
class GrantAdmin(SharingAdmin):
    list_display = ("id", "dataset", "consumer", "status", "valid_from", "valid_until",
                    "field_names", "revoke_link")  # fmt: skip
    list_filter = ("status", "dataset")
    search_fields = ("dataset__code", "consumer__code")
    inlines = (GrantFieldInline,)
    readonly_fields = ("request", "consumer", "dataset", "valid_from", "valid_until",
                       "row_filter", "status", "revoked_at", "revoked_by", "revoked_reason",
                       "created_at")  # fmt: skip

    def get_queryset(self, request):
        return grants_visible_to(user=request.user).prefetch_related("items__field")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/revoke/", wrap(lambda r, pk: revoke_view(self, r, pk)),
                 name="sharing_grant_revoke"),
        ] + super().get_urls()  # fmt: skip

    @admin.display(description=_("fields"))
    def field_names(self, obj: Grant):
        return format_html_join(
            ", ", "{}", ((i.field.name,) for i in obj.items.all() if i.removed_at is None)
        )

    @admin.display(description=_("revoke"))
    def revoke_link(self, obj: Grant):
        if obj.status != Grant.Status.ACTIVE:
            return ""
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:sharing_grant_revoke", args=[obj.pk]),
            _("Revoke"),
        )  # fmt: skip


@admin.register(Notification)
class NotificationAdmin(SharingAdmin):
    list_display = ("subject", "created_at", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter),)
    readonly_fields = ("subject", "body", "link", "created_at", "read_at")
    fields = readonly_fields
    actions = ("mark_read",)

    def has_module_permission(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def get_queryset(self, request):
        return Notification.objects.filter(recipient=request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is not None:
            notification_mark_read(notification=obj)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        for obj in queryset:
            notification_mark_read(notification=obj)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"

    def has_module_permission(self, request) -> bool:
        return _is_sharing_user(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return _is_sharing_user(request.user)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
