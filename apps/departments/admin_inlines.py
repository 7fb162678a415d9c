"""Read-only inlines of the department-facing admin pages (requests, grants, objections): shown
to the people those pages are for (apps.departments.selectors.user_works_in_departments); which
rows each sees is decided by its app's selectors."""

from __future__ import annotations

from apps.common import admin_mixins as common_admin
from apps.departments.selectors import user_works_in_departments


class _DepartmentStaffOnly:
    def has_view_permission(self, request, obj=None) -> bool:
        return user_works_in_departments(user=request.user)


class StaffReadOnlyInline(_DepartmentStaffOnly, common_admin.ReadOnlyInline):
    pass


class StaffTransitionInline(_DepartmentStaffOnly, common_admin.TransitionInline):
    pass
