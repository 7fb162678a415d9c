"""Admin behaviour shared by several apps."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """Records that only services write (versions, grants history, audit events): the admin
    shows them and never adds, changes or deletes them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
