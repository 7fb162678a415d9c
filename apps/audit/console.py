"""The auditors' console: admin-integrated views (wrapped by AuditEventAdmin.get_urls in the
admin site's login, OTP and staff checks). What each user may see is decided in
apps.audit.permissions; these views only render."""

from __future__ import annotations

import csv
import datetime as dt
from typing import Any
from urllib.parse import urlencode

import orjson
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from apps.audit import charts, labels, selectors, stats
from apps.audit.models import Alert, AuditEvent
from apps.audit.permissions import ConsoleAccess, console_access
from apps.audit.services import FOLLOW_UP_ACTIONS
from apps.audit.verification import chain_verify
from apps.common.csv_safety import csv_safe

CSV_LIMIT = 100_000
PAGE = 50
ALERTS_SHOWN = 200


class WhenField(forms.DateTimeField):
    """A date and time, or a date alone: its first instant, or for the end of a range (`end`)
    the end of that day. `until` is exclusive, and an auditor asking for "until 2026-11-26"
    means the 26th included."""

    def __init__(self, *, end: bool = False, **kwargs: Any) -> None:
        self.end = end
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> dt.datetime | None:
        if isinstance(value, str) and value.strip():
            try:
                day = forms.DateField().to_python(value)
            except ValidationError:
                day = None  # not a date alone: a date and time, or invalid
            if day is not None:
                return selectors.day_bounds(day, end=self.end)
        return super().to_python(value)


class SearchForm(forms.Form):
    """The filters of apps.audit.selectors.EventFilters, the same as the events API's."""

    department = forms.CharField(
        label=gettext_lazy("Department code"), required=False, max_length=32
    )
    consumer = forms.CharField(
        label=gettext_lazy("Consumer department code"), required=False, max_length=32
    )
    provider = forms.CharField(
        label=gettext_lazy("Provider department code"), required=False, max_length=32
    )
    dataset = forms.CharField(label=gettext_lazy("Dataset code"), required=False, max_length=64)
    field = forms.CharField(
        label=gettext_lazy("Field"),
        required=False,
        max_length=63,
        help_text=gettext_lazy("Returned, asked for, filtered on or ordered by; denied reads too."),
    )
    purpose = forms.CharField(
        label=gettext_lazy("Purpose contains"), required=False, max_length=200
    )
    end_user = forms.CharField(label=gettext_lazy("End user"), required=False, max_length=255)
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"),
        required=False,
        choices=[("", "---"), *AuditEvent.Outcome.choices],
    )
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), required=False, choices=[("", "---"), *AuditEvent.Kind.choices]
    )
    since = WhenField(label=gettext_lazy("From"), required=False)
    until = WhenField(
        label=gettext_lazy("Until"),
        required=False,
        end=True,
        help_text=gettext_lazy("A date alone includes that whole day."),
    )

    def filters(self) -> selectors.EventFilters | None:
        """The search asked for, or None when the form is invalid: an invalid search has no
        filters rather than fewer, so that one mistyped date never turns a search for one
        department into the whole log (on screen or in the CSV)."""
        if not self.is_bound:
            return selectors.EventFilters()
        if not self.is_valid():
            return None
        data = self.cleaned_data
        return selectors.EventFilters(**{n: data.get(n) or None for n in selectors.FILTER_NAMES})


def _require(ok: bool) -> None:
    if not ok:
        raise PermissionDenied


def _access(request, page: str) -> ConsoleAccess:
    """The pages `request.user` may open (passed to every page for the navigation), after
    refusing this one if it is not among them."""
    access = console_access(user=request.user)
    _require(getattr(access, page))
    return access


def _context(admin_site, request, title: str, access: ConsoleAccess, **extra):
    return {**admin_site.each_context(request), "title": title, "console": access, **extra}


def _result_note(*, shown: int, more: bool, continued: bool) -> str:
    """How many events the search found, as far as it is known without counting. A count
    would have to run the search to its end: an index-only count is impossible for most
    searches (a department's scope is an OR of two indexes, the field and purpose filters read
    the body), so on a large log even one capped at a thousand could cost many times the
    page."""
    if more:
        return ngettext(
            "%(n)d event shown; more match (“Older events”).",
            "%(n)d events shown; more match (“Older events”).",
            shown,
        ) % {"n": shown}
    if continued:
        return ngettext(
            "%(n)d more event: the last of this search.",
            "%(n)d more events: the last of this search.",
            shown,
        ) % {"n": shown}
    if not shown:
        return ""
    return ngettext("%(n)d event matches.", "%(n)d events match.", shown) % {"n": shown}


def _searched(request, form: SearchForm) -> QuerySet[AuditEvent] | None:
    """The events of the form's search, or None when it is invalid, the form then saying why
    (a department or dataset code no row has among its errors, as the events API says it)."""
    filters = form.filters()
    if filters is None:
        return None
    try:
        return selectors.events_search(user=request.user, filters=filters)
    except selectors.UnknownCode as exc:
        form.add_error(None, exc)
        return None


def _search_response(admin_site, request, access: ConsoleAccess, *, form: SearchForm | None = None):
    """The search page; given the `form` of a refused CSV, that form's errors and a 400."""
    csv_refused = form is not None
    if form is None:
        form = SearchForm(request.GET or None)
    qs = None if csv_refused else _searched(request, form)
    rows, next_cursor = [], None
    cursor = request.GET.get("cursor")
    if qs is not None:
        try:
            rows, next_cursor = selectors.events_page(qs=qs, cursor=cursor, size=PAGE)
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
            access,
            form=form,
            invalid=qs is None,
            csv_refused=csv_refused,
            events=rows,
            result_note=_result_note(
                shown=len(rows), more=next_cursor is not None, continued=bool(cursor)
            ),
            next_query=f"{query.urlencode()}&cursor={next_cursor}" if next_cursor else None,
            query=query.urlencode(),
        ),
        status=400 if csv_refused else 200,
    )


def search_view(admin_site, request):
    return _search_response(admin_site, request, _access(request, "events"))


def detail_view(admin_site, request, seq: int):
    access = _access(request, "events")
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
            access,
            event=event,
            time=labels.local_time(event.occurred_at, precise=True),
            body=labels.body_items(event.data),
            field_labels=selectors.event_field_labels(event=event),
        ),
    )


def stats_view(admin_site, request):
    access = _access(request, "events")
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
            access,
            # Empty axes and headings over nothing read as a fault: say there was nothing.
            has_reads=any(any(values) for values in by_consumer.values()),
            has_denials=any(any(values) for values in denied.values()),
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
    else as recorded, except that text a spreadsheet would run as a formula (agencies write
    purposes, end users and case ids) is made inert (apps.common.csv_safety)."""
    if labels.is_empty(value):
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return csv_safe(value)


def csv_view(admin_site, request):
    access = _access(request, "events")
    form = SearchForm(request.GET or None)
    qs = _searched(request, form)
    if qs is None:
        # Never the unfiltered log in place of the search asked for: the search page, with
        # its errors, and no file.
        return _search_response(admin_site, request, access, form=form)
    qs = qs[:CSV_LIMIT]
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
    access = _access(request, "verify")
    result = chain_verify() if request.method == "POST" else None
    return TemplateResponse(
        request,
        "audit/verify.html",
        _context(admin_site, request, _("Verify the audit log"), access, result=result),
    )


def alert_links(alert: Alert) -> list[tuple[str, str]]:
    """Links to the events behind an alert: its first and last event, and a search for all of
    them (the consumer, the window, and the dataset or outcome the alert is about)."""
    details = alert.details if isinstance(alert.details, dict) else {}
    links: list[tuple[str, str]] = []
    for key in ("seq", "first_seq", "last_seq"):
        seq = details.get(key)
        if isinstance(seq, int) and not any(label == f"#{seq}" for label, _url in links):
            links.append((f"#{seq}", reverse("admin:audit_console_detail", args=[seq])))
    if alert.department is None:
        return links
    query = {
        "consumer": alert.department.code,
        "since": timezone.localtime(alert.window_start).isoformat(),
        "until": timezone.localtime(alert.window_end).isoformat(),
        "kind": AuditEvent.Kind.ACCESS.value,
        "outcome": "denied" if alert.kind == Alert.Kind.DENIAL_BURST else "allowed",
    }
    if isinstance(details.get("dataset"), str):
        query["dataset"] = details["dataset"]
    search = f"{reverse('admin:audit_auditevent_changelist')}?{urlencode(query)}"
    return [*links, (_("Events in the window"), search)]


def alerts_view(admin_site, request):
    """The alerts the user may see, newest first; `?id=` shows one (the e-mails link there)."""
    access = _access(request, "alerts")
    alerts = selectors.alerts_visible(user=request.user)
    wanted = request.GET.get("id", "")
    if wanted:
        valid = wanted.isascii() and wanted.isdigit() and len(wanted) <= 18
        alerts = alerts.filter(pk=int(wanted)) if valid else alerts.none()
    rows = selectors.alerts_listed(alerts=alerts, limit=ALERTS_SHOWN)
    return TemplateResponse(
        request,
        "audit/alerts.html",
        _context(
            admin_site,
            request,
            _("Audit alerts"),
            access,
            one=bool(wanted),
            rows=[(row, alert_links(row.alert)) for row in rows],
        ),
    )
