"""OpenAPI pieces shared by every API module: the problem-details body (RFC 9457)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

PROBLEM = inline_serializer(
    name="Problem",
    fields={
        "type": serializers.CharField(),
        "title": serializers.CharField(),
        "status": serializers.IntegerField(),
        "detail": serializers.JSONField(),
        "request_id": serializers.CharField(allow_null=True),
    },
)


def problems(*codes: int) -> dict[int, OpenApiResponse]:
    """Problem-details responses for the given status codes, for `extend_schema(responses=...)`."""
    return {
        code: OpenApiResponse(PROBLEM, description="application/problem+json") for code in codes
    }
