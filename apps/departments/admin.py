"""Platform administrators register departments and their members; auditors may look."""

from __future__ import annotations

from django.contrib import admin

from apps.catalog import permissions as perms
from apps.departments.admin_accounts import people
from apps.departments.admin_accounts import register as register_accounts
from apps.departments.models import Department, Membership
from apps.departments.services import department_create, membership_add, membership_remove


class PlatformAdminOnly(admin.ModelAdmin):
    def has_module_permission(self, request) -> bool:
        return perms.is_platform_admin(request.user) or perms.is_catalog_auditor(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request) -> bool:
        return perms.is_platform_admin(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return perms.is_platform_admin(request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return perms.is_platform_admin(request.user)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("user", "role", "created_at")
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # through the membership page, which keeps the acting group in step


@admin.register(Department)
class DepartmentAdmin(PlatformAdminOnly):
    list_display = ("code", "name", "level", "region", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name", "region")
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("parent")

    def get_readonly_fields(self, request, obj=None):
        # The code names the department's acting group; changing it would orphan the group.
        return ("code", "group") if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return super().save_model(request, obj, form, change)
        created = department_create(
            code=obj.code,
            name=obj.name,
            parent=obj.parent,
            level=obj.level,
            region=obj.region,
            email=obj.email,
        )
        obj.pk, obj.group_id, obj._state = created.pk, created.group_id, created._state

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # datasets, grants and audit records point at departments


@admin.register(Membership)
class MembershipAdmin(PlatformAdminOnly):
    list_display = ("user", "department", "role", "created_at")
    list_filter = ("role", "department")
    search_fields = ("user__username", "department__code", "department__name")
    autocomplete_fields = ("department",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "department")

    def get_readonly_fields(self, request, obj=None):
        return ("user", "department", "role") if obj is not None else ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = people().order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if change:
            return
        created = membership_add(
            user=obj.user, department=obj.department, role=obj.role, by=request.user
        )
        obj.pk, obj._state = created.pk, created._state

    def delete_model(self, request, obj) -> None:
        membership_remove(user=obj.user, department=obj.department, role=obj.role, by=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for membership in queryset.select_related("user", "department"):
            self.delete_model(request, membership)


register_accounts(admin.site)
