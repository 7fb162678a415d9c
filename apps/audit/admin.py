"""The audit log in the admin: the console replaces the change list, nothing is editable."""

from __future__ import annotations

from functools import partial

from django.contrib import admin
from django.urls import path
from django.utils.translation import gettext_lazy as _

from apps.audit import console
from apps.audit.models import Alert, AuditEvent
from apps.audit.permissions import can_view_alerts, can_view_events
from apps.common.admin_mixins import ReadOnlyAdminMixin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def has_view_permission(self, request, obj=None) -> bool:
        return can_view_events(user=request.user)

    def has_module_permission(self, request) -> bool:
        return can_view_events(user=request.user)

    def get_urls(self):
        site = self.admin_site

        def wrap(view):
            return site.admin_view(partial(view, site))

        return [
            path("", wrap(console.search_view), name="audit_auditevent_changelist"),
            path("stats/", wrap(console.stats_view), name="audit_console_stats"),
            path("export.csv", wrap(console.csv_view), name="audit_console_csv"),
            path("verify/", wrap(console.verify_view), name="audit_console_verify"),
            path("alerts/", wrap(console.alerts_view), name="audit_console_alerts"),
            path("<int:seq>/", wrap(console.detail_view), name="audit_console_detail"),
        ]


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "kind", "department", "summary_shown", "emailed_at")
    list_filter = ("kind",)

    @admin.display(description=_("summary"))
    def summary_shown(self, obj: Alert) -> str:
        return obj.summary_text  # in the reader's language

    def has_module_permission(self, request) -> bool:
        return can_view_alerts(user=request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return can_view_alerts(user=request.user)

    def get_queryset(self, request):
        from apps.audit.selectors import alerts_visible

        return alerts_visible(user=request.user)
