"""/api/v1/objections/...: included by apps.api.urls into the API's v1 namespace."""

from django.urls import path

from apps.objections import api

app_name = "objections"

urlpatterns = [
    path("", api.ObjectionListView.as_view(), name="list"),
    path("<int:pk>/", api.ObjectionDetailView.as_view(), name="detail"),
    path("<int:pk>/answer/", api.ObjectionAnswerView.as_view(), name="answer"),
    path("<int:pk>/withdraw/", api.ObjectionWithdrawView.as_view(), name="withdraw"),
]
