"""The auditors' console: admin-integrated views (wrapped by AuditEventAdmin.get_urls in the
admin site's login, OTP and staff checks). What each user may see is decided in
apps.audit.permissions; these views only render."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any

import orjson
from django import forms
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.audit import charts, labels, selectors, stats
from apps.audit.models import AuditEvent
from apps.audit.permissions import can_view_alerts, can_view_events, is_auditor
from apps.audit.services import FOLLOW_UP_ACTIONS
from apps.audit.verification import chain_verify

CSV_LIMIT = 100_000
PAGE = 50


class SearchForm(forms.Form):
    department = forms.CharField(
        label=gettext_lazy("Department code"), required=False, max_length=32
    )
    dataset = forms.CharField(label=gettext_lazy("Dataset code"), required=False, max_length=64)
    field = forms.CharField(label=gettext_lazy("Field"), required=False, max_length=63)
    purpose = forms.CharField(
        label=gettext_lazy("Purpose contains"), required=False, max_length=200
    )
    end_user = forms.CharField(label=gettext_lazy("End user"), required=False, max_length=255)
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        required=False,
        choices=[("", "---"), *AuditEvent.Outcome.choices],
    )
    since = forms.DateTimeField(label=gettext_lazy("From"), required=False)
    until = forms.DateTimeField(label=gettext_lazy("Until"), required=False)

    def filters(self) -> selectors.EventFilters:
        data = self.cleaned_data if self.is_valid() else {}
        return selectors.EventFilters(
            department=data.get("department") or None,
            dataset=data.get("dataset") or None,
            field=data.get("field") or None,
            purpose=data.get("purpose") or None,
            end_user=data.get("end_user") or None,
            outcome=data.get("outcome") or None,
            since=data.get("since"),
            until=data.get("until"),
        )


def _require(ok: bool) -> None:
    if not ok:
        raise PermissionDenied


def _context(admin_site, request, title: str, **extra):
    return {**admin_site.each_context(request), "title": title, **extra}


def search_view(admin_site, request):
    _require(can_view_events(user=request.user))
    form = SearchForm(request.GET or None)
    qs = selectors.events_search(user=request.user, filters=form.filters())
    try:
        rows, next_cursor = selectors.events_page(
            qs=qs, cursor=request.GET.get("cursor"), size=PAGE
        )
    except (ValueError, UnicodeDecodeError):
        rows, next_cursor = [], None
    query = request.GET.copy()
    query.pop("cursor", None)
    return TemplateResponse(
        request,
        "audit/search.html",
        _context(
            admin_site,
            request,
            _("Audit log"),
            form=form,
            events=rows,
            next_query=f"{query.urlencode()}&cursor={next_cursor}" if next_cursor else None,
            query=query.urlencode(),
            is_auditor=is_auditor(user=request.user),
        ),
    )


def detail_view(admin_site, request, seq: int):
    _require(can_view_events(user=request.user))
    event = selectors.events_visible(user=request.user).filter(seq=seq).first()
    if event is None:
        raise Http404
    return TemplateResponse(
        request,
        "audit/detail.html",
        _context(
            admin_site,
            request,
            _("Audit event #%(seq)d") % {"seq": seq},
            event=event,
            body=labels.body_items(event.data),
            field_labels=selectors.event_field_labels(event=event),
        ),
    )


def stats_view(admin_site, request):
    _require(can_view_events(user=request.user))
    until = timezone.localdate()
    since = until - dt.timedelta(days=29)
    start = timezone.make_aware(dt.datetime.combine(since, dt.time()))
    qs = selectors.events_visible(user=request.user).filter(kind="access", occurred_at__gte=start)
    reads = qs.filter(outcome="allowed").exclude(action__in=FOLLOW_UP_ACTIONS)
    days, by_consumer = stats.per_day(qs=reads, column="consumer_id", since=since, until=until)
    _days, by_provider = stats.per_day(qs=reads, column="provider_id", since=since, until=until)
    _days, denied = stats.denials_per_day(qs=qs, since=since, until=until)
    return TemplateResponse(
        request,
        "audit/stats.html",
        _context(
            admin_site,
            request,
            _("Reads and denials, last 30 days"),
            consumer_chart=charts.line_chart(
                days=days, series=by_consumer, title=_("Reads per day by consumer")
            ),
            provider_chart=charts.line_chart(
                days=days, series=by_provider, title=_("Reads per day by provider")
            ),
            denial_chart=charts.line_chart(
                days=days,
                series=labels.labelled_series(denied, key="outcome"),
                title=_("Denials per day"),
            ),
            datasets_chart=charts.bar_list(
                rows=stats.top_datasets(qs=reads), title=_("Top datasets read")
            ),
            fields_chart=charts.bar_list(
                rows=stats.top_fields(qs=reads), title=_("Top fields read")
            ),
        ),
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = [
    "seq",
    "time",
    "kind",
    "action",
    "request_id",
    "username",
    "application_name",
    "consumer_code",
    "provider_code",
    "dataset_code",
    "fields",
    "row_count",
    "filters",
    "purpose",
    "case_id",
    "end_user",
    "grant_ids",
    "outcome",
    "reason",
    "client_ip",
    "duration_ms",
    "target",
    "details",
    "hash",
]


def csv_value(value: Any) -> Any:
    """A body value as a CSV cell: nothing recorded as an empty cell, lists and objects
    (fields, filters, grant_ids, details) as JSON with non-ASCII text kept as it is, anything
    else as recorded."""
    if labels.is_empty(value):
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return value


def csv_view(admin_site, request):
    _require(can_view_events(user=request.user))
    form = SearchForm(request.GET or None)
    qs = selectors.events_search(user=request.user, filters=form.filters())[:CSV_LIMIT]
    writer = csv.writer(_Echo())

    def rows():
        yield "\ufeff" + writer.writerow(CSV_COLUMNS)  # BOM: spreadsheets then read UTF-8
        for event in qs.iterator(chunk_size=2000):
            values = {
                **event.data,
                "seq": event.seq,
                "hash": event.hash,
                "time": timezone.localtime(event.occurred_at).isoformat(),
            }
            yield writer.writerow([csv_value(values.get(c)) for c in CSV_COLUMNS])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit-events.csv"'
    return response


def verify_view(admin_site, request):
    _require(is_auditor(user=request.user))
    result = chain_verify() if request.method == "POST" else None
    return TemplateResponse(
        request,
        "audit/verify.html",
        _context(admin_site, request, _("Verify the audit log"), result=result),
    )


def alerts_view(admin_site, request):
    _require(can_view_alerts(user=request.user))
    return TemplateResponse(
        request,
        "audit/alerts.html",
        _context(
            admin_site,
            request,
            _("Audit alerts"),
            alerts=selectors.alerts_visible(user=request.user)[:200],
        ),
    )
