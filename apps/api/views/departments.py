"""GET /departments/: every department's code and name."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers

from apps.api.permissions import SeesCatalogue
from apps.api.views.base import ApiView, json_response, query_checked, query_problems
from apps.departments.models import Department

DEPARTMENTS = inline_serializer(
    name="Department",
    fields={"code": serializers.CharField(), "name": serializers.CharField()},
    many=True,
)


class DepartmentListView(ApiView):
    permission_classes = [SeesCatalogue]  # scope `read` or `requests`

    @extend_schema(
        operation_id="departments_list",
        summary=_("Departments"),
        responses={200: DEPARTMENTS, **query_problems(401, 403, 429)},
    )
    def get(self, request):
        query_checked(request.query_params, known=())
        rows = Department.objects.order_by("code").values("code", "name")
        return json_response(list(rows))
