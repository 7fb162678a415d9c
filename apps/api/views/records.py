"""Record reads: list (cursor pages), lookup by key, streaming export. Every read, allowed or
denied, is audited before any data leaves; if the event cannot be written the read fails. An
export writes a second event when its stream has ended: the rows actually sent, and whether it
ran to the end."""

from __future__ import annotations

import time

import orjson
from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions

from apps.api.auth import caller_for
from apps.api.export import ExportEnd, export_response
from apps.api.permissions import ActsForDepartment
from apps.api.views.base import (
    READ_HEADERS,
    ApiView,
    page_link,
    problems,
    read_context,
)
from apps.audit.labels import reason_for_record
from apps.catalog.models import Dataset
from apps.records.query import (
    MAX_PAGE_SIZE,
    RESERVED_PARAMS,
    QueryForbidden,
    QueryInvalid,
    lookup_key,
    page_size_parse,
    record_query_build,
)
from apps.records.reads import record_by_key_read, record_key_json, records_page_json
from apps.sharing.policy import access_for_published_code, read_decision
from govdata.masking import hash_key_for

LIST_PARAMS = [
    OpenApiParameter("fields", OpenApiTypes.STR, description="Comma-separated projection."),
    OpenApiParameter("ordering", OpenApiTypes.STR, description="e.g. `district,-birth_date`."),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="From the previous page's `next`."),
    OpenApiParameter("page_size", OpenApiTypes.INT, description=f"1 to {MAX_PAGE_SIZE}."),
]
FILTER_NOTE = _(
    "Filter with `<field>=v`, `<field>__in=a,b`, `__gte`, `__lte`, `__contains`, on fields you "
    "read in clear only (else 403)."
)
# Reasons of an export's end event (stable codes, like "no readable field").
EXPORT_COMPLETE = "export complete"
EXPORT_ABORTED = "export aborted: %s"  # apps.api.export.CLIENT_GONE, or the error's class name
RECORDS_PAGE = {
    "type": "object",
    "properties": {
        "results": {"type": "array", "items": {"type": "object", "additionalProperties": True}},
        "next": {"type": "string", "nullable": True},
    },
    "required": ["results", "next"],
}


def query_params(request) -> dict[str, str]:
    """The query string, one value per parameter. None of the parameters of a record read
    takes several values (a projection, an ordering or `__in` takes them comma-separated), so
    a parameter given twice is a 400 naming it: taking one of its values would silently drop
    the other."""
    for name, values in request.GET.lists():
        if len(values) > 1:
            if name in RESERVED_PARAMS:
                message = _("“%(param)s” is given more than once; give it once, comma-separated.")
            else:
                message = _(
                    "“%(param)s” is given more than once; give it once (several values of a "
                    "field: <field>__in=a,b)."
                )
            raise exceptions.ParseError(message % {"param": name})
    return request.GET.dict()


def read_filters(query, params: dict[str, str]) -> dict[str, str]:
    """What the audit event records of a read's query: its filters and its ordering."""
    ordering = {"ordering": params["ordering"]} if params.get("ordering") else {}
    return {**query.filters, **ordering}


def refuse_export_format(params: dict[str, str]) -> None:
    """`format` chooses an export's file format; on a page or a lookup it is a mistake, said so
    (DRF would have taken it for a renderer and answered 404)."""
    if "format" in params:
        raise exceptions.ParseError(
            _("“format” is for exports only: /export/?format=csv or ?format=ndjson.")
        )


class RecordReadMixin:
    permission_classes = [ActsForDepartment]
    read_context_in_auth = True  # apps.api.auth loads the read context with the token
    audit_action = "list"
    # No HEAD (Django would answer it with GET): it would run and audit a read whose rows are
    # never sent.
    http_method_names = ["get", "options"]

    def read_setup(self, request, code: str):
        try:
            ctx, unstated = read_context(request), None
        except exceptions.ParseError as exc:  # refused once the dataset is known, and recorded
            ctx, unstated = read_context(request, required=False), exc
        caller = caller_for(request)
        # Dataset, fields and live grants in one query (the policy's rules, evaluated now),
        # already run with the token check for applications.
        read_row = getattr(request.auth, "govdata_read_row", None)
        try:
            if read_row is not None and read_row[0] == code:
                dataset, decision = read_decision(read_row[1], department=caller.department)
            else:
                dataset, decision = access_for_published_code(
                    code=code, department=caller.department
                )
        except Dataset.DoesNotExist as exc:
            raise Http404(_("No published dataset with this code.")) from exc
        self._audit_base = {
            "request_id": request.request_id,
            "consumer": caller.department,
            "provider": dataset.provider,
            "dataset": dataset,
            "user": caller.user,
            "application": caller.agency.application if caller.agency else None,
            "purpose": ctx.purpose,
            "case_id": ctx.case_id,
            "end_user": ctx.end_user,
            "client_ip": ctx.client_ip,
        }
        self._started = time.perf_counter()
        if unstated is not None:
            raise unstated
        return caller, dataset, decision

    def audit_event(
        self,
        *,
        outcome: str,
        fields=None,
        row_count=None,
        filters=None,
        reason="",
        grants=(),
        action: str = "",
    ) -> dict:
        return {
            **self._audit_base,
            "action": action or self.audit_action,
            "fields": fields or {},
            "row_count": row_count,
            "filters": filters or {},
            "grant_ids": grants,
            "outcome": outcome,
            # Recorded in the platform's language, whatever the caller's: one refusal, one text.
            "reason": reason_for_record(reason),
            "duration_ms": (time.perf_counter() - self._started) * 1000,
        }

    def audit(self, **event) -> None:
        from apps.audit.services import audit_record_access

        audit_record_access(**self.audit_event(**event))
        self._audited = True

    def handle_exception(self, exc):
        # A malformed read of a dataset (no purpose, an unknown field, a forged cursor, a
        # repeated parameter) is a refused read too: recorded like a forbidden one, so that
        # probing shows in the log and in its alerts, then answered with its 400.
        if (
            isinstance(exc, exceptions.ParseError)
            and getattr(self, "_audit_base", None) is not None
            and not getattr(self, "_audited", False)
        ):
            filters = {k: v for k, v in self.request.GET.items() if k != "cursor"}
            self.audit(outcome="denied", filters=filters, reason=str(exc.detail))
        return super().handle_exception(exc)

    def build(self, request, dataset, decision, caller, params):
        filters = {k: v for k, v in params.items() if k != "cursor"}
        if not decision.fields:
            self.audit(outcome="denied", filters=filters, reason="no readable field")
            raise exceptions.PermissionDenied(_("You may not read this dataset."))
        try:
            return record_query_build(
                dataset=dataset,
                decision=decision,
                params=params,
                hash_key=hash_key_for(settings.GOVDATA["HASH_MASK_KEY"], caller.department.code),
            )
        except QueryForbidden as exc:
            self.audit(outcome="denied", filters=filters, reason=exc.message)
            raise exceptions.PermissionDenied(exc.message) from exc
        except QueryInvalid as exc:
            raise exceptions.ParseError(exc.message) from exc


class RecordListView(RecordReadMixin, ApiView):
    audit_action = "list"

    @extend_schema(
        operation_id="records_list",
        summary=_("Records of a dataset (readable fields only, masked)"),
        description=FILTER_NOTE,
        parameters=READ_HEADERS + LIST_PARAMS,
        responses={200: OpenApiResponse(RECORDS_PAGE), **problems(400, 401, 403, 404, 429)},
    )
    def get(self, request, code: str):
        caller, dataset, decision = self.read_setup(request, code)
        params = query_params(request)
        refuse_export_format(params)
        try:
            page_size = page_size_parse(params.pop("page_size", None))
        except QueryInvalid as exc:
            raise exceptions.ParseError(exc.message) from exc
        query = self.build(request, dataset, decision, caller, params)
        try:
            rows, row_count, next_cursor = records_page_json(
                query=query, page_size=page_size, cursor=params.get("cursor")
            )
        except QueryInvalid as exc:
            raise exceptions.ParseError(exc.message) from exc
        self.audit(
            outcome="allowed",
            fields=query.fields_with_masks(decision),
            row_count=row_count,
            filters=read_filters(query, params),
            grants=query.grants_relied_on(decision),
        )
        # The rows arrive as one JSON array built by PostgreSQL: spliced in, not re-encoded.
        link = orjson.dumps(page_link(request, next_cursor))
        return HttpResponse(
            b'{"results":' + rows + b',"next":' + link + b"}", content_type="application/json"
        )


class RecordDetailView(RecordReadMixin, ApiView):
    audit_action = "lookup"

    @extend_schema(
        operation_id="records_retrieve",
        summary=_("One record by its key (the key field must be readable in clear)"),
        description=FILTER_NOTE,
        parameters=READ_HEADERS + LIST_PARAMS[:1],
        responses={
            200: OpenApiResponse({"type": "object", "additionalProperties": True}),
            **problems(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, code: str, key: str):
        caller, dataset, decision = self.read_setup(request, code)
        params = query_params(request)
        refuse_export_format(params)
        # The caller sent the key: a refusal records it as an allowed lookup does.
        asked = {**params, dataset.key_field: lookup_key(dataset=dataset, key=key)}
        if not decision.fields:
            self.audit(outcome="denied", filters=asked, reason="no readable field")
            raise exceptions.PermissionDenied(_("You may not read this dataset."))
        hash_key = hash_key_for(settings.GOVDATA["HASH_MASK_KEY"], caller.department.code)
        try:
            query, statement, read_sql = record_by_key_read(
                dataset=dataset, decision=decision, key=key, hash_key=hash_key, params=params
            )
        except QueryForbidden as exc:
            self.audit(outcome="denied", filters=asked, reason=exc.message)
            raise exceptions.PermissionDenied(exc.message) from exc
        except QueryInvalid as exc:
            raise exceptions.ParseError(exc.message) from exc
        allowed = {
            "outcome": "allowed",
            "fields": query.fields_with_masks(decision),
            "filters": query.filters,
            "grants": query.grants_relied_on(decision),
        }
        if read_sql is not None:  # the read and its event in one round trip
            from apps.audit.services import audit_record_read

            value = audit_record_read(
                read_sql=read_sql,
                read_params=query.params,
                started=self._started,
                **self.audit_event(**allowed),
            )
            row = None if value is None else value.encode()
        else:
            row = record_key_json(query, statement)
            self.audit(row_count=0 if row is None else 1, **allowed)
        if row is None:
            raise Http404(_("No record with this key."))
        return HttpResponse(row, content_type="application/json")


class RecordExportView(RecordReadMixin, ApiView):
    audit_action = "export"

    @extend_schema(
        operation_id="records_export",
        summary=_("Streaming export of the same query (CSV with BOM, or NDJSON)"),
        description=FILTER_NOTE,
        parameters=READ_HEADERS
        + LIST_PARAMS[:2]
        + [OpenApiParameter("format", OpenApiTypes.STR, enum=["csv", "ndjson"], required=True)],
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY),
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.BINARY),
            **problems(400, 401, 403, 404, 429),
        },
    )
    def get(self, request, code: str):
        caller, dataset, decision = self.read_setup(request, code)
        params = query_params(request)
        fmt = params.get("format", "")
        if fmt not in ("csv", "ndjson"):
            raise exceptions.ParseError(_("format must be csv or ndjson."))
        paging = sorted({"cursor", "page_size"} & set(params))
        if paging:
            raise exceptions.ParseError(
                _("An export has every matching record: %(params)s is for pages only.")
                % {"params": ", ".join(paging)}
            )
        query = self.build(request, dataset, decision, caller, params)
        event = {
            "outcome": "allowed",
            "fields": query.fields_with_masks(decision),
            "filters": {**read_filters(query, params), "format": fmt},
            "grants": query.grants_relied_on(decision),
        }
        # The event is written before the first byte is streamed: no audit, no data.
        self.audit(row_count=None, **event)

        def ended(end: ExportEnd) -> None:
            # The same request's second event: the rows actually sent, how the stream ended
            # and the export's whole duration.
            reason = EXPORT_COMPLETE if end.complete else EXPORT_ABORTED % end.cause
            self.audit(action="export.end", row_count=end.rows, reason=reason, **event)

        return export_response(query=query, fmt=fmt, filename=f"{dataset.code}.{fmt}", on_end=ended)
