from django.conf import settings
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from oauth2_provider.views import RevokeTokenView, TokenView

from apps.api.views import catalog, departments, records, requests

v1 = [
    path("departments/", departments.DepartmentListView.as_view(), name="departments"),
    path("catalog/", catalog.CatalogListView.as_view(), name="catalog"),
    path("catalog/<str:code>/", catalog.CatalogDetailView.as_view(), name="catalog-detail"),
    path("datasets/<str:code>/records/", records.RecordListView.as_view(), name="records"),
    path(
        "datasets/<str:code>/records/<str:key>/",
        records.RecordDetailView.as_view(),
        name="record-detail",
    ),
    path("datasets/<str:code>/export/", records.RecordExportView.as_view(), name="export"),
    path("requests/", requests.RequestListView.as_view(), name="requests"),
    path("requests/<int:pk>/", requests.RequestDetailView.as_view(), name="request-detail"),
    path("requests/<int:pk>/approve/", requests.RequestApproveView.as_view(), name="approve"),
    path("requests/<int:pk>/reject/", requests.RequestRejectView.as_view(), name="reject"),
    path("requests/<int:pk>/revoke/", requests.RequestRevokeView.as_view(), name="revoke"),
    path("requests/<int:pk>/withdraw/", requests.RequestWithdrawView.as_view(), name="withdraw"),
    path("objections/", include("apps.objections.urls")),
]

# Only the token endpoints of django-oauth-toolkit. Its other views (application registration
# and management, authorisation, device flow, dynamic client registration, metadata) would let
# any logged-in member create OAuth clients outside the registry of agency applications, which
# officers keep in the admin (apps.api.admin) and the audit log records. Introspection is left
# out too: no scope grants it, and nothing here calls it.
oauth = [
    path("token/", TokenView.as_view(), name="token"),
    path("revoke_token/", RevokeTokenView.as_view(), name="revoke-token"),
]

urlpatterns = [
    path("oauth/", include((oauth, "oauth2_provider"), namespace="oauth2_provider")),
    path("api/v1/", include((v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
]

if settings.GOVDATA.get("API_BENCH_VIEWS"):
    from apps.api.bench_views import constant_json

    urlpatterns.append(path("bench/constant/", constant_json, name="bench-constant"))
