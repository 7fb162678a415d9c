"""GET /api/v1/audit/export/: the platform auditor's download of the log as NDJSON, byte for
byte what `manage.py audit_export` writes (apps.audit.export), so that govdata/auditchain.py
verifies it offline. Streamed in constant memory; recorded as an administrative event before
the first byte (the export then holds its own download, signed).

Department auditors are refused: the chain is one sequence over every department's events, so
their share of it cannot be chain-verified alone (each event's hash depends on the one before,
which is often another department's), and the whole log is not theirs to read."""

from __future__ import annotations

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.api.views.base import query_checked
from apps.audit.api import AuditApiView, parse_when
from apps.audit.export import (
    ExportRangeError,
    export_chunks,
    export_range_check,
    seq_range_for_times,
)
from apps.audit.permissions import IsPlatformAuditor
from apps.audit.services import audit_record_admin, origin_of
from apps.common import clock
from apps.common.openapi import problems

NDJSON = "application/x-ndjson"
MAX_SEQ = 2**63 - 1  # the sequence is a bigint


class ExportApi(AuditApiView):
    permission_classes = [IsPlatformAuditor]
    # No HEAD: Django would answer it with GET, recording an export and signing a checkpoint
    # for a body nobody receives.
    http_method_names = ["get", "options"]

    class RangeSerializer(serializers.Serializer):
        from_seq = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=MAX_SEQ,
            help_text="First event (sequence number).",
        )
        to_seq = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=MAX_SEQ,
            help_text="Last event wanted; the export runs on to the next signed checkpoint.",
        )
        since = serializers.CharField(
            required=False, help_text="From the first event at or after this time (ISO 8601)."
        )
        until = serializers.CharField(
            required=False,
            help_text="Up to the last event before this time (ISO 8601); a date alone includes "
            "that whole day, as in /audit/events/.",
        )

        def validate(self, attrs: dict) -> dict:
            for seq, when in (("from_seq", "since"), ("to_seq", "until")):
                if seq in attrs and when in attrs:
                    message = _("Give %(seq)s or %(when)s, not both.")
                    raise ValidationError({when: message % {"seq": seq, "when": when}})
            return attrs

    @extend_schema(
        parameters=[RangeSerializer],
        responses={(200, NDJSON): OpenApiTypes.STR, **problems(400, 401, 403)},
        summary="The audit log as a signed NDJSON export (platform auditors)",
        description="What `manage.py audit_export` writes: verify it offline with "
        "`python govdata/auditchain.py FILE --public-key KEY.pem` (key: `/api/v1/audit/"
        "public-key/`). docs/audit-verification.md describes the format.",
    )
    def get(self, request) -> StreamingHttpResponse:
        query_checked(request.query_params, known=set(self.RangeSerializer().fields))
        params = self.RangeSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        try:
            from_time, to_time = seq_range_for_times(
                since=parse_when("since", data.get("since")),
                until=parse_when("until", data.get("until"), end=True),
            )
            from_seq = data.get("from_seq", from_time)
            to_seq = data.get("to_seq", to_time)
            export_range_check(from_seq=from_seq, to_seq=to_seq)
        except ExportRangeError as exc:
            raise ValidationError(str(exc)) from exc
        # No audit, no data: written (or the request fails) before anything is streamed.
        audit_record_admin(
            action="audit.export",
            actor=request.user,
            target="audit-log",
            details={
                key: value
                for key, value in {**data, "from_seq": from_seq, "to_seq": to_seq}.items()
                if value is not None
            },
            origin=origin_of(request),
        )
        response = StreamingHttpResponse(
            export_chunks(from_seq=from_seq, to_seq=to_seq), content_type=NDJSON
        )
        name = f"audit-log-{clock.now():%Y%m%dT%H%M%SZ}.ndjson"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response
