"""Admin registrations of apps.common: replacements for third-party admins that no app of ours
owns (apps.common.admin_axes, apps.common.admin_oauth)."""

from django.contrib import admin

from apps.common.admin_axes import register as register_axes
from apps.common.admin_oauth import register as register_oauth

register_axes(admin.site)
register_oauth(admin.site)
