from django.urls import path

from apps.audit import api, export_api

app_name = "audit"

urlpatterns = [
    path("events/", api.EventsApi.as_view(), name="events"),
    path("verify/", api.VerifyApi.as_view(), name="verify"),
    path("checkpoints/", api.CheckpointsApi.as_view(), name="checkpoints"),
    path("public-key/", api.PublicKeyApi.as_view(), name="public-key"),
    path("export/", export_api.ExportApi.as_view(), name="export"),
]
