from django.contrib.admin.apps import AdminConfig


class GovDataAdminConfig(AdminConfig):
    """Replaces `django.contrib.admin` in INSTALLED_APPS: same app, our admin site as default."""

    default_site = "apps.common.admin_site.GovDataAdminSite"
