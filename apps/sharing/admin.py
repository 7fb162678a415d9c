"""Admin for requests, grants, notifications and holidays: the model admins, their list
columns, decision links and bulk actions. Officers see only requests and grants where one of
their departments is the provider or the consumer; decisions go through apps.sharing.services
(the pages in admin_views). The inlines are in admin_inlines, the list filters in
admin_filters."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import path, reverse
from django.utils import formats
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.audit.services import origin_of
from apps.common import clock
from apps.common.admin_mixins import ReadOnlyAdminMixin, RelatedLinksByPermissionMixin
from apps.departments.selectors import user_works_in_departments
from apps.sharing import (
    admin_catalogue,  # also registers the responsibility list
    policy,
    services,
)
from apps.sharing.admin_filters import (
    DirectionFilter,
    EndingFilter,
    GrantDirectionFilter,
    ReadFilter,
)
from apps.sharing.admin_inlines import GrantFieldInline, RequestFieldInline, TransitionInline
from apps.sharing.admin_views import approve_view, reject_view, revoke_view, withdraw_view
from apps.sharing.models import DataRequest, Grant, Holiday, Notification
from apps.sharing.notifications import notification_mark_read
from apps.sharing.row_filters import rows_label
from apps.sharing.selectors import grant_last_day, grants_visible_to, requests_visible_to


class SharingAdmin(RelatedLinksByPermissionMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """View-only by default: every change is a decision made through a service. The decisions
    offered (list links, detail-page buttons, bulk actions) are those apps.sharing.policy
    allows the viewer."""

    change_form_template = "admin/sharing/change_form.html"

    def has_module_permission(self, request) -> bool:
        return user_works_in_departments(user=request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return user_works_in_departments(user=request.user)  # rows are narrowed by get_queryset


_DECISION_LABELS = (
    (policy.APPROVE, _("Approve")),
    (policy.REJECT, _("Reject")),
    (policy.WITHDRAW, _("Withdraw")),
)


def _action_links(links):
    return format_html_join(" · ", '<a href="{}">{}</a>', links)


@admin.register(DataRequest)
class DataRequestAdmin(SharingAdmin):
    list_display = ("id", "dataset", "consumer", "status", "due_by_marked", "created_at")
    list_filter = (DirectionFilter, "status", "overdue")
    search_fields = ("dataset__code", "dataset__name", "consumer__code", "purpose")
    ordering = ("due_by", "id")
    inlines = (RequestFieldInline, TransitionInline)
    actions = ("withdraw_selected",)
    readonly_fields = ("consumer", "dataset", "purpose", "legal_basis", "valid_until", "status",
                       "due_by", "overdue", "reminded_at", "escalated_at", "decided_at",
                       "decided_by", "decision_reason", "granted", "created_by",
                       "created_by_application_id", "created_at")  # fmt: skip

    def get_queryset(self, request):
        return requests_visible_to(user=request.user)

    def get_list_display(self, request):
        # The decide column is bound to this request's viewer: the admin instance is shared
        # between requests, so it must not hold per-user state.
        user = request.user

        @admin.display(description=_("decide"))
        def decision_links(obj: DataRequest):
            allowed = policy.request_actions(user=user, request=obj)
            return _action_links(
                (reverse(f"admin:sharing_datarequest_{action}", args=[obj.pk]), label)
                for action, label in _DECISION_LABELS
                if action in allowed
            )

        return (*self.list_display, decision_links)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_request": admin_catalogue.may_request_somewhere(request),
        }
        return super().changelist_view(request, extra_context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        # Withdrawing is the requester's: not offered on the list of requests to us.
        incoming = request.GET.get(DirectionFilter.parameter_name) == "incoming"
        if incoming or not policy.may_withdraw_requests(user=request.user):
            actions.pop("withdraw_selected", None)
        return actions

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            allowed = policy.request_actions(user=request.user, request=obj)
            context["decision_buttons"] = [
                (reverse(f"admin:sharing_datarequest_{action}", args=[obj.pk]), label)
                for action, label in _DECISION_LABELS
                if action in allowed
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/approve/", wrap(lambda r, pk: approve_view(self, r, pk)),
                 name="sharing_datarequest_approve"),
            path("<int:pk>/reject/", wrap(lambda r, pk: reject_view(self, r, pk)),
                 name="sharing_datarequest_reject"),
            path("<int:pk>/withdraw/", wrap(lambda r, pk: withdraw_view(self, r, pk)),
                 name="sharing_datarequest_withdraw"),
        ] + super().get_urls()  # fmt: skip

    @admin.display(description=_("grant"))
    def granted(self, obj: DataRequest):
        """What an approval gave: the fields and masks are on the grant's page; the rows it
        covers (a row filter set at approval) are said here, where the requester looks."""
        grant = Grant.objects.filter(request=obj).only("pk", "status", "row_filter").first()
        if grant is None:
            return "-"
        rows = rows_label((grant.row_filter,)) if grant.row_filter else _("every row")
        return format_html(
            '<a href="{}">#{} · {}</a> · {}',
            reverse("admin:sharing_grant_change", args=[grant.pk]),
            grant.pk,
            grant.get_status_display(),
            rows,
        )

    @admin.display(description=_("answer due by"), ordering="due_by")
    def due_by_marked(self, obj: DataRequest):
        late = obj.status == DataRequest.Status.SUBMITTED and (
            obj.overdue or obj.due_by < clock.today()
        )
        if late:
            return format_html('<strong style="color:#ba2121">{} · {}</strong>', obj.due_by,
                               _("OVERDUE"))  # fmt: skip
        return obj.due_by

    @admin.action(description=_("Withdraw the selected pending requests"))
    def withdraw_selected(self, request, queryset):
        done = 0
        for obj in queryset:
            try:
                services.request_withdraw(request=obj, by=request.user, origin=origin_of(request))
                done += 1
            except PermissionDenied as exc:
                messages.error(request, f"#{obj.pk}: {exc}")
            except ValidationError as exc:
                messages.error(request, f"#{obj.pk}: {' '.join(exc.messages)}")
        if done:
            messages.success(request, _("%(n)d request(s) withdrawn.") % {"n": done})


@admin.register(Grant)
class GrantAdmin(SharingAdmin):
    list_display = ("id", "dataset", "consumer", "status", "valid_from", "last_day",
                    "field_names")  # fmt: skip
    # Only the datasets of grants the viewer sees: a plain filter would name every dataset,
    # other departments' drafts included.
    list_filter = (GrantDirectionFilter, EndingFilter, "status",
                   ("dataset", admin.RelatedOnlyFieldListFilter))  # fmt: skip
    search_fields = ("dataset__code", "consumer__code")
    inlines = (GrantFieldInline,)
    readonly_fields = ("request", "consumer", "dataset", "valid_from", "last_day_shown",
                       "rows_covered", "status", "revoked_at", "revoked_by",
                       "revoked_reason_shown", "created_at")  # fmt: skip
    # Only these: the stored end (an exclusive instant, the next midnight) would show a day
    # after the one the grant was approved until.
    fields = readonly_fields

    def get_queryset(self, request):
        return grants_visible_to(user=request.user).prefetch_related("items")

    @admin.display(description=Grant._meta.get_field("revoked_reason").verbose_name)
    def revoked_reason_shown(self, obj: Grant) -> str:
        return obj.revoked_reason_text or "-"  # in the reader's language when the platform wrote it

    @admin.display(description=_("rows covered"))
    def rows_covered(self, obj: Grant) -> str:
        return rows_label((obj.row_filter,)) if obj.row_filter else _("every row")

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/revoke/", wrap(lambda r, pk: revoke_view(self, r, pk)),
                 name="sharing_grant_revoke"),
        ] + super().get_urls()  # fmt: skip

    @admin.display(description=_("valid through"), ordering="valid_until")
    def last_day(self, obj: Grant):
        # The stored end is an exclusive instant (the next midnight): the day shown is the
        # last day the grant holds, the date it was approved until.
        return grant_last_day(grant=obj)

    @admin.display(description=_("valid through"))
    def last_day_shown(self, obj: Grant) -> str:
        # The change page shows a method's value as text (a date in ISO), unlike the list and
        # the page's date fields: formatted as they are.
        return formats.localize(grant_last_day(grant=obj))

    @admin.display(description=_("fields"))
    def field_names(self, obj: Grant):
        return format_html_join(
            ", ", "{}", ((i.field_name,) for i in obj.items.all() if i.removed_at is None)
        )

    def get_list_display(self, request):
        user = request.user  # bound per request, as in DataRequestAdmin

        @admin.display(description=_("revoke"))
        def revoke_link(obj: Grant):
            if policy.REVOKE not in policy.grant_actions(user=user, grant=obj):
                return ""
            return _action_links([(reverse("admin:sharing_grant_revoke", args=[obj.pk]),
                                   _("Revoke"))])  # fmt: skip

        return (*self.list_display, revoke_link)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and policy.REVOKE in policy.grant_actions(user=request.user, grant=obj):
            context["decision_buttons"] = [
                (reverse("admin:sharing_grant_revoke", args=[obj.pk]), _("Revoke"))
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(Notification)
class NotificationAdmin(SharingAdmin):
    list_display = ("subject_shown", "created_at", "read_at")
    list_filter = (ReadFilter,)
    readonly_fields = ("subject_shown", "body_shown", "open_link", "created_at", "read_at")
    fields = readonly_fields

    # In the reader's language (apps.common.texts), not the sender's.
    @admin.display(description=_("subject"), ordering="subject")
    def subject_shown(self, obj: Notification) -> str:
        return obj.subject_text

    @admin.display(description=_("message"))
    def body_shown(self, obj: Notification) -> str:
        return obj.body_text

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

    @admin.display(description=_("link"))
    def open_link(self, obj: Notification):
        # Links are the platform's own admin paths (set by the services that notify).
        if not obj.link.startswith("/") or obj.link.startswith("//"):
            return obj.link
        return format_html('<a href="{}">{}</a>', obj.link, pgettext_lazy("link", "Open"))

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
        return user_works_in_departments(user=request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return user_works_in_departments(user=request.user)

    def has_add_permission(self, request) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None) -> bool:
        return request.user.is_superuser
