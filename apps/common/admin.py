"""Admin registrations of apps.common: replacements for third-party admins that no app of ours
owns (apps.common.admin_axes)."""

from django.contrib import admin

from apps.common.admin_axes import register as register_axes

register_axes(admin.site)
