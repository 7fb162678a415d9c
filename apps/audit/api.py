"""Audit endpoints of the agency API (mounted at /api/v1/audit/). Thin: the permission rules
are in apps.audit.permissions, the reads in apps.audit.selectors."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from django.utils.dateparse import date_re, datetime_re
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.auth import ApplicationAuthentication, CsrfSessionAuthentication
from apps.api.views.base import ChoiceQuery, query_checked, query_problems
from apps.audit import selectors
from apps.audit.models import AuditEvent
from apps.audit.permissions import CanViewEvents, IsAuditor
from apps.audit.signing import public_key_pem
from apps.audit.verification import chain_verify
from apps.common.openapi import problems
from apps.common.renderers import JsonOnly
from govdata.auditchain import format_time

MAX_PAGE_SIZE = 500


def parse_when(name: str, value: str | None, *, end: bool = False) -> dt.datetime | None:
    """ISO date-time (naive = Asia/Shanghai) or a date: its first instant, or with `end` (for
    `until`) the end of that day, so that `until=2026-11-26` includes the 26th."""
    if not value:
        return None
    try:
        return selectors.when_parse(value, end=end)
    except ValueError as exc:
        if datetime_re.match(value.strip()) or date_re.match(value.strip()):
            # Well formed but impossible: 2026-02-30, 25:00.
            message = _("%(value)s is not a real date or time.") % {"value": value}
        else:
            message = _("Use an ISO 8601 date or date-time.")
        raise ValidationError({name: [message]}) from exc


def event_as_dict(event: AuditEvent) -> dict:
    data = event.data
    return {
        "seq": event.seq,
        "time": event.occurred_at,
        "kind": event.kind,
        "action": event.action,
        "request_id": data.get("request_id"),
        "user": data.get("username") or None,
        "application": data.get("application_name") or None,
        "consumer": data.get("consumer_code") or None,
        "provider": data.get("provider_code") or None,
        "dataset": data.get("dataset_code") or None,
        "fields": data.get("fields"),
        "row_count": data.get("row_count"),
        "filters": data.get("filters"),
        "purpose": data.get("purpose"),
        "case_id": data.get("case_id"),
        "end_user": data.get("end_user"),
        "grant_ids": data.get("grant_ids"),
        "outcome": data.get("outcome") or None,
        "reason": data.get("reason"),
        "client_ip": data.get("client_ip") or None,
        "duration_ms": data.get("duration_ms"),
        "target": data.get("target") or None,
        "details": data.get("details"),
        "hash": event.hash,
    }


_DENIED = problems(400, 401, 403)


class EventOutputSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    time = serializers.DateTimeField()
    kind = serializers.CharField()
    action = serializers.CharField()
    request_id = serializers.CharField(allow_null=True)
    user = serializers.CharField(allow_null=True)
    application = serializers.CharField(allow_null=True)
    consumer = serializers.CharField(allow_null=True)
    provider = serializers.CharField(allow_null=True)
    dataset = serializers.CharField(allow_null=True)
    fields = serializers.JSONField(allow_null=True)
    row_count = serializers.IntegerField(allow_null=True)
    filters = serializers.JSONField(allow_null=True)
    purpose = serializers.CharField(allow_null=True)
    case_id = serializers.CharField(allow_null=True)
    end_user = serializers.CharField(allow_null=True)
    grant_ids = serializers.JSONField(allow_null=True)
    outcome = serializers.CharField(allow_null=True)
    reason = serializers.CharField(allow_null=True)
    client_ip = serializers.CharField(allow_null=True)
    duration_ms = serializers.FloatField(allow_null=True)
    target = serializers.CharField(allow_null=True)
    details = serializers.JSONField(allow_null=True)
    hash = serializers.CharField()


class EventPageSerializer(serializers.Serializer):
    results = EventOutputSerializer(many=True)
    next = serializers.URLField(allow_null=True)


class VerifyOutputSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    events_checked = serializers.IntegerField()
    first_bad_event = serializers.IntegerField(allow_null=True)


class CheckpointOutputSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    head_hash = serializers.CharField()
    signed_at = serializers.CharField()
    signature = serializers.CharField()
    key_id = serializers.CharField(allow_null=True)


class CheckpointListSerializer(serializers.Serializer):
    results = CheckpointOutputSerializer(many=True)
    public_key = serializers.URLField()


class AuditApiView(APIView):
    # As on the rest of the API (apps.api.views.base.ApiView): a bearer token counts only if it
    # belongs to a registered, active agency application (else 401), and auditors keep using
    # their browser session. REST framework's default, django-oauth-toolkit's class, would take
    # a token of any OAuth client, including one registered outside the platform's registry.
    authentication_classes = [ApplicationAuthentication, CsrfSessionAuthentication]
    content_negotiation_class = JsonOnly  # `format` is no renderer choice here either


class EventsApi(AuditApiView):
    permission_classes = [CanViewEvents]

    class FilterSerializer(serializers.Serializer):
        """The console's search (apps.audit.selectors.EventFilters), plus paging; `outcome`
        and `kind` are EventsApi.CHOICES, whose unknown values are refused in the same words
        as on every list of the API."""

        dataset = serializers.CharField(
            required=False,
            max_length=64,
            help_text="Dataset code (any case); one no dataset has is a 400.",
        )
        consumer = serializers.CharField(
            required=False,
            max_length=32,
            help_text="Consumer department code (any case); one no department has is a 400.",
        )
        provider = serializers.CharField(
            required=False,
            max_length=32,
            help_text="Provider department code (any case); one no department has is a 400.",
        )
        department = serializers.CharField(
            required=False,
            max_length=32,
            help_text="Department code, as consumer or as provider (any case); one no "
            "department has is a 400.",
        )
        field = serializers.CharField(
            required=False,
            max_length=63,
            help_text="A field name (any case): events that returned it, asked for it, "
            "filtered on it or ordered by it, denied reads included.",
        )
        purpose = serializers.CharField(
            required=False, max_length=200, help_text="Text the stated purpose contains."
        )
        end_user = serializers.CharField(
            required=False, max_length=255, help_text="The end user, exactly as recorded."
        )
        since = serializers.CharField(
            required=False,
            help_text="From (inclusive): an ISO 8601 date-time (without an offset: "
            "Asia/Shanghai) or a date (from its first instant).",
        )
        until = serializers.CharField(
            required=False,
            help_text="Until: an ISO 8601 date-time, exclusive (without an offset: "
            "Asia/Shanghai), or a date, inclusive: until=2026-11-26 includes the whole of "
            "26 November.",
        )
        cursor = serializers.CharField(required=False, max_length=200)
        page_size = serializers.IntegerField(
            required=False, min_value=1, max_value=MAX_PAGE_SIZE, default=50
        )

    CHOICES = (
        ChoiceQuery("outcome", AuditEvent.Outcome.values, "Only events of this outcome."),
        ChoiceQuery("kind", AuditEvent.Kind.values, "Only events of this kind."),
    )

    @classmethod
    def parameter_names(cls) -> set[str]:
        return set(cls.FilterSerializer().fields) | {choice.name for choice in cls.CHOICES}

    @extend_schema(
        parameters=[FilterSerializer, *(choice.parameter for choice in CHOICES)],
        responses={200: EventPageSerializer, **query_problems(401, 403)},
        summary="Access and administrative events visible to the caller",
    )
    def get(self, request) -> Response:
        query_checked(request.query_params, known=self.parameter_names())
        choices = {choice.name: choice.value(request) for choice in self.CHOICES}
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = {**params.validated_data, **choices}
        given = {name: data.get(name) or None for name in selectors.FILTER_NAMES}
        given["since"] = parse_when("since", data.get("since"))
        given["until"] = parse_when("until", data.get("until"), end=True)
        filters = selectors.EventFilters(**given)
        try:
            qs = selectors.events_search(user=request.user, filters=filters)
        except selectors.UnknownCode as exc:
            raise ValidationError(exc.message_dict) from exc
        try:
            rows, next_cursor = selectors.events_page(
                qs=qs, cursor=data.get("cursor"), size=data["page_size"]
            )
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValidationError({"cursor": [_("This cursor is not valid.")]}) from exc
        next_url = None
        if next_cursor:
            query = request.query_params.copy()
            query["cursor"] = next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response({"results": [event_as_dict(e) for e in rows], "next": next_url})


class VerifyApi(AuditApiView):
    permission_classes = [IsAuditor]

    @extend_schema(responses={200: VerifyOutputSerializer, **_DENIED}, summary="Verify the chain")
    def get(self, request):
        return Response(chain_verify().as_dict())


class CheckpointsApi(AuditApiView):
    permission_classes = [IsAuditor]

    @extend_schema(
        responses={200: CheckpointListSerializer, **query_problems(401, 403)},
        summary="Signed checkpoints",
    )
    def get(self, request):
        query_checked(request.query_params, known=())
        return Response(
            {
                "results": [
                    {
                        "seq": c.seq,
                        "head_hash": c.head_hash,
                        "signed_at": format_time(c.signed_at),
                        "signature": c.signature,
                        "key_id": c.key_id,
                    }
                    for c in selectors.checkpoints_list()
                ],
                "public_key": request.build_absolute_uri(
                    request.path.removesuffix("checkpoints/") + "public-key/"
                ),
            }
        )


class PublicKeyApi(AuditApiView):
    """The checkpoint key's public half is published: anyone may fetch it to verify exports."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        responses={(200, "application/x-pem-file"): OpenApiTypes.STR},
        summary="The checkpoint signing key's public half (PEM)",
    )
    def get(self, request):
        return HttpResponse(public_key_pem(), content_type="application/x-pem-file")
