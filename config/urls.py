from django.contrib import admin
from django.urls import include, path

from apps.common import views as common_views

urlpatterns = [
    path("healthz", common_views.healthz, name="healthz"),
    path("readyz", common_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/audit/", include("apps.audit.urls")),
    path("", include("apps.api.urls")),
]

# Problem details (RFC 9457) for /api/ and /oauth/ paths; HTML pages elsewhere.
handler400 = "apps.api.errors.handler400"
handler403 = "apps.api.errors.handler403"
handler404 = "apps.api.errors.handler404"
handler500 = "apps.api.errors.handler500"
