"""Anomaly detectors over the access log, run by Celery beat (config/settings/schedule.py).
Each alert is one anomaly, raised once however often, late or by hand the detectors run:

- bulk reads of sensitive fields and bursts of denied requests look at every span of their
  window's length (a sliding window: each event may start one), not at buckets laid down by
  the schedule, so a burst that straddles a run is still caught. A span is reported from its
  first event; events up to the end of a reported span belong to that alert, so a second run,
  or the rest of the same burst, raises nothing new;
- reads outside working hours are reported once per off-hours stretch of a local day (before
  work, after work, or a whole day off), working days taken from the holiday calendar that the
  request deadlines use (apps.sharing, govdata.workdays);
- reads far above a department's baseline are reported once per local day.

The dedupe key names the anomaly (the span's first event, the stretch, the day), so that two
runs at once still raise one alert. Alerts name the consumer and every provider whose data
they are about; the summary is kept as a message id with its parameters and rendered in each
reader's language (e-mails in the platform's). Thresholds come from
settings.GOVDATA["AUDIT_ALERTS"] (defaults below).

An export is recorded twice under one request id (apps/api/views/records.py): when it starts
("export", before any data leaves, without a row count) and when its stream has ended
("export.end", with the rows actually sent). Rows read count the second; reads count the
first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.postgres.aggregates import ArrayAgg
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Count, Max, Min, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.audit import labels
from apps.audit.models import Alert, AuditEvent
from apps.audit.services import FOLLOW_UP_ACTIONS
from apps.catalog.models import Dataset, Field
from apps.common import clock
from apps.common.texts import Text
from apps.departments.models import PLATFORM_AUDITORS_GROUP, Department, Membership
from apps.sharing.selectors import holiday_calendar
from govdata import workdays

DEFAULTS = {
    "VOLUME_FACTOR": 5.0,  # reads in a day vs the daily mean of the baseline period
    "VOLUME_MIN_READS": 200,
    "BASELINE_DAYS": 28,
    # Rows returned with at least one sensitive field, by one consumer from one dataset within
    # SENSITIVE_WINDOW_MINUTES, through pages, lookups and exports alike.
    "EXPORT_MIN_ROWS": 10_000,
    "SENSITIVE_WINDOW_MINUTES": 60,
    "WORK_START_HOUR": 8,
    "WORK_END_HOUR": 20,
    "OFF_HOURS_MIN_READS": 20,  # within OFF_HOURS_WINDOW_MINUTES of one off-hours stretch
    "OFF_HOURS_WINDOW_MINUTES": 60,
    "DENIAL_BURST": 20,  # denied requests by one consumer within DENIAL_WINDOW_MINUTES
    "DENIAL_WINDOW_MINUTES": 10,
    # How often beat runs the detectors: the sliding windows look back this much further, so
    # that a span that ended just after a run is still seen whole by the next one.
    "SCHEDULE_MINUTES": 10,
}
SENSITIVE = ("sensitive", "highly_sensitive")
# Reads that return rows: a page, a lookup, an export's end (its rows actually sent).
ROW_ACTIONS = ("list", "lookup", "export.end")
ROW_COUNT_SQL = "COALESCE((body::jsonb ->> 'row_count')::bigint, 0)"

SUMMARY_VOLUME = gettext_noop("%(n)d reads in one day, daily baseline %(mean).1f")
SUMMARY_SENSITIVE = gettext_noop(
    "%(rows)d rows with sensitive fields %(fields)s read from %(ds)s within %(m)d minutes"
)
SUMMARY_OFF_HOURS = gettext_noop("%(n)d reads outside working hours")
SUMMARY_DENIALS = gettext_noop("%(n)d denied requests in %(m)d minutes over %(d)d datasets")


def _conf(name: str) -> Any:
    return settings.GOVDATA.get("AUDIT_ALERTS", {}).get(name, DEFAULTS[name])


def _minutes(name: str) -> dt.timedelta:
    return dt.timedelta(minutes=_conf(name))


def _raise(
    *,
    kind: str,
    key: str,
    summary: Text,
    start: dt.datetime,
    end: dt.datetime,
    department_id: int | None,
    provider_ids: Iterable[int | None] = (),
    details: dict | None = None,
) -> Alert | None:
    providers = sorted({int(p) for p in provider_ids if p is not None})
    with translation.override(settings.LANGUAGE_CODE):
        rendered = str(summary)  # for the admin's list and older readers of `summary`
    try:
        with transaction.atomic():
            return Alert.objects.create(
                kind=kind,
                department_id=department_id,
                provider_id=providers[0] if len(providers) == 1 else None,
                provider_ids=providers,
                summary=rendered[:500],
                message={"summary": summary.to_json()},
                details=details or {},
                window_start=start,
                window_end=end,
                dedupe_key=f"{kind}:{key}"[:200],
                created_at=clock.now(),
            )
    except IntegrityError:
        return None  # this anomaly was raised already


def _access(start: dt.datetime, end: dt.datetime) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        kind="access", occurred_at__gte=start, occurred_at__lt=end, consumer_id__isnull=False
    )


def _reads(start: dt.datetime, end: dt.datetime) -> QuerySet[AuditEvent]:
    """Allowed reads, one event per request: not an export's end event."""
    return _access(start, end).filter(outcome="allowed").exclude(action__in=FOLLOW_UP_ACTIONS)


def _existing_departments(ids: Iterable[int]) -> set[int]:
    return set(Department.objects.filter(pk__in=set(ids)).values_list("pk", flat=True))


def _local(day: dt.date, hour: int = 0) -> dt.datetime:
    """`hour` o'clock of `day` in the platform's zone (24 is the next midnight)."""
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour)
    return timezone.make_aware(moment, timezone.get_current_timezone())


# Sliding windows


def _first_spans(
    qs: QuerySet[AuditEvent],
    *,
    group: tuple[str, ...],
    weight: str,
    span: dt.timedelta,
    threshold: int,
) -> list[tuple]:
    """Per value of the `group` columns: (*group values, time, seq) of the earliest event of
    `qs` from which the events of the next `span` (from it included) weigh `threshold` or more.
    `weight` is an SQL expression over an event's row (a constant for a count). One statement:
    a window function sums each event's following span."""
    cols = ", ".join(group)  # column names from this module, never from input
    inner, params = (
        qs.annotate(w=RawSQL(weight, []))  # noqa: S611 - constant SQL from this module  # nosec B611
        .values(*group, "occurred_at", "seq", "w")
        .order_by()
        .query.sql_with_params()
    )
    sql = (
        f"SELECT DISTINCT ON ({cols}) {cols}, occurred_at, seq FROM ("
        f" SELECT {cols}, occurred_at, seq, sum(w) OVER (PARTITION BY {cols} ORDER BY occurred_at"
        "  RANGE BETWEEN CURRENT ROW AND %s FOLLOWING) AS total"
        f" FROM ({inner}) AS e) AS s WHERE total >= %s ORDER BY {cols}, occurred_at, seq"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [span, *params, threshold])
        return cursor.fetchall()


def _not_yet_reported(
    qs: QuerySet[AuditEvent], *, kind: str, since: dt.datetime, dataset: bool = False
) -> QuerySet[AuditEvent]:
    """`qs` without the events up to the end of an alert of `kind` already raised for their
    consumer (and dataset): they belong to that alert's span."""
    covered: dict[tuple, dt.datetime] = {}
    for consumer_id, details, window_end in Alert.objects.filter(
        kind=kind, window_end__gt=since
    ).values_list("department_id", "details", "window_end"):
        dataset_id = details.get("dataset_id") if dataset and isinstance(details, dict) else None
        key = (consumer_id, dataset_id)
        covered[key] = max(window_end, covered.get(key, window_end))
    for (consumer_id, dataset_id), until in covered.items():
        match = Q(consumer_id=consumer_id, occurred_at__lt=until)
        if dataset:
            match &= Q(dataset_id=dataset_id)
        qs = qs.exclude(match)
    return qs


# Detectors


def _returned_fields(qs: QuerySet[AuditEvent]) -> set[str]:
    """The names of the fields the events of `qs` returned."""
    inner, params = qs.values("body").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT k FROM (" + inner + ") AS e,"
            " jsonb_object_keys(COALESCE(e.body::jsonb -> 'fields', '{}'::jsonb)) AS k",
            params,
        )
        return {row[0] for row in cursor.fetchall()}


def alerts_detect_sensitive_reads(*, now: dt.datetime | None = None) -> list[Alert]:
    """Rows returned with sensitive fields, summed over pages, lookups and exports by one
    consumer from one dataset: paging through a dataset a thousand rows at a time takes the
    same rows out as one export."""
    end = now or clock.now()
    span = _minutes("SENSITIVE_WINDOW_MINUTES")
    start = end - span - 2 * _minutes("SCHEDULE_MINUTES")
    field_table = Field._meta.db_table
    returned_sensitive = (
        f"EXISTS (SELECT 1 FROM {field_table} f WHERE f.dataset_id = audit_event.dataset_id"
        " AND f.sensitivity IN %s AND (audit_event.body::jsonb -> 'fields') ? f.name)"
    )
    reads = (
        _access(start, end)  # nosec B610 - constant SQL (the .extra below)
        .filter(outcome="allowed", action__in=ROW_ACTIONS, dataset_id__isnull=False)
        .extra(where=[returned_sensitive], params=[SENSITIVE])  # noqa: S610 - constant SQL
    )
    reads = _not_yet_reported(reads, kind=Alert.Kind.SENSITIVE_EXPORT, since=start, dataset=True)
    spans = _first_spans(
        reads,
        group=("consumer_id", "dataset_id"),
        weight=ROW_COUNT_SQL,
        span=span,
        threshold=_conf("EXPORT_MIN_ROWS"),
    )
    known = _existing_departments(s[0] for s in spans)
    datasets = dict(Dataset.objects.filter(pk__in={s[1] for s in spans}).values_list("pk", "code"))
    sensitive = set(
        Field.objects.filter(dataset_id__in=datasets, sensitivity__in=SENSITIVE).values_list(
            "dataset_id", "name"
        )
    )
    alerts = []
    for consumer_id, dataset_id, first_at, first_seq in spans:
        if consumer_id not in known:
            continue
        in_span = reads.filter(
            consumer_id=consumer_id,
            dataset_id=dataset_id,
            occurred_at__gte=first_at,
            occurred_at__lt=first_at + span,
        )
        totals = in_span.aggregate(
            rows=Sum(RawSQL(ROW_COUNT_SQL, [], output_field=BigIntegerField())),  # noqa: S611  # nosec B611
            reads=Count("seq"),
            last_seq=Max("seq"),
            providers=ArrayAgg("provider_id", distinct=True),
        )
        names = sorted(n for n in _returned_fields(in_span) if (dataset_id, n) in sensitive)
        code = datasets.get(dataset_id, str(dataset_id))
        rows = int(totals["rows"] or 0)
        alert = _raise(
            kind=Alert.Kind.SENSITIVE_EXPORT,
            key=f"{consumer_id}:{dataset_id}:{first_seq}",
            start=first_at,
            end=first_at + span,
            department_id=consumer_id,
            provider_ids=totals["providers"] or (),
            summary=Text(
                SUMMARY_SENSITIVE,
                {
                    "rows": rows,
                    "fields": ", ".join(names),
                    "ds": code,
                    "m": _conf("SENSITIVE_WINDOW_MINUTES"),
                },
            ),
            details={
                "rows": rows,
                "reads": totals["reads"],
                "fields": names,
                "dataset": code,
                "dataset_id": dataset_id,
                "first_seq": first_seq,
                "last_seq": totals["last_seq"],
            },
        )
        alerts.append(alert)
    return [a for a in alerts if a]


# The name the beat task and older callers use.
alerts_detect_sensitive_exports = alerts_detect_sensitive_reads


def alerts_detect_denial_bursts(*, now: dt.datetime | None = None) -> list[Alert]:
    end = now or clock.now()
    span = _minutes("DENIAL_WINDOW_MINUTES")
    start = end - span - 2 * _minutes("SCHEDULE_MINUTES")
    denials = _access(start, end).filter(outcome="denied")
    denials = _not_yet_reported(denials, kind=Alert.Kind.DENIAL_BURST, since=start)
    spans = _first_spans(
        denials, group=("consumer_id",), weight="1", span=span, threshold=_conf("DENIAL_BURST")
    )
    known = _existing_departments(s[0] for s in spans)
    alerts = []
    for consumer_id, first_at, first_seq in spans:
        if consumer_id not in known:
            continue
        totals = denials.filter(
            consumer_id=consumer_id, occurred_at__gte=first_at, occurred_at__lt=first_at + span
        ).aggregate(
            n=Count("seq"),
            datasets=Count("dataset_id", distinct=True),
            last_seq=Max("seq"),
            providers=ArrayAgg("provider_id", distinct=True),
        )
        alert = _raise(
            kind=Alert.Kind.DENIAL_BURST,
            key=f"{consumer_id}:{first_seq}",
            start=first_at,
            end=first_at + span,
            department_id=consumer_id,
            provider_ids=totals["providers"] or (),
            summary=Text(
                SUMMARY_DENIALS,
                {"n": totals["n"], "m": _conf("DENIAL_WINDOW_MINUTES"), "d": totals["datasets"]},
            ),
            details={
                "denied": totals["n"],
                "datasets": totals["datasets"],
                "first_seq": first_seq,
                "last_seq": totals["last_seq"],
            },
        )
        alerts.append(alert)
    return [a for a in alerts if a]


def off_hours_stretches(
    start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, dt.datetime]]:
    """The off-hours stretches of the local days that [start, end) touches, as (the stretch's
    own start, its part within [start, end)): before work and after work on a working day, the
    whole of a day off. Working days follow the holiday calendar (public holidays are off, a
    make-up working day is worked). One query."""
    first, last = timezone.localdate(start), timezone.localdate(end)
    calendar = holiday_calendar(start=first, end=last)
    work_start, work_end = _conf("WORK_START_HOUR"), _conf("WORK_END_HOUR")
    stretches = []
    day = first
    while day <= last:
        if workdays.is_working_day(day, calendar):
            parts = [
                (_local(day), _local(day, work_start)),
                (_local(day, work_end), _local(day, 24)),
            ]
        else:
            parts = [(_local(day), _local(day, 24))]
        for own_start, own_end in parts:
            lo, hi = max(own_start, start), min(own_end, end)
            if lo < hi:
                stretches.append((own_start, lo, hi))
        day += dt.timedelta(days=1)
    return stretches


def alerts_detect_off_hours(*, now: dt.datetime | None = None) -> list[Alert]:
    end = now or clock.now()
    start = end - _minutes("OFF_HOURS_WINDOW_MINUTES")
    alerts = []
    for stretch, lo, hi in off_hours_stretches(start, end):
        rows = list(
            _reads(lo, hi)
            .values_list("consumer_id")
            .annotate(
                n=Count("seq"),
                first_seq=Min("seq"),
                last_seq=Max("seq"),
                providers=ArrayAgg("provider_id", distinct=True),
            )
            .filter(n__gte=_conf("OFF_HOURS_MIN_READS"))
            .order_by()
        )
        known = _existing_departments(r[0] for r in rows) if rows else set()
        for consumer_id, n, first_seq, last_seq, providers in rows:
            if consumer_id not in known:
                continue
            alert = _raise(
                kind=Alert.Kind.OFF_HOURS,
                key=f"{consumer_id}:{timezone.localtime(stretch):%Y%m%d%H%M}",
                start=lo,
                end=hi,
                department_id=consumer_id,
                provider_ids=providers or (),
                summary=Text(SUMMARY_OFF_HOURS, {"n": n}),
                details={"reads": n, "first_seq": first_seq, "last_seq": last_seq},
            )
            alerts.append(alert)
    return [a for a in alerts if a]


def alerts_detect_volume(*, now: dt.datetime | None = None) -> list[Alert]:
    """Reads of each local day so far against the daily mean of the days before. The day just
    ended is looked at again until one schedule period into the next, for its last reads."""
    end = now or clock.now()
    days = sorted({timezone.localdate(end - _minutes("SCHEDULE_MINUTES")), timezone.localdate(end)})
    baseline_days = _conf("BASELINE_DAYS")
    alerts = []
    for day in days:
        lo, hi = _local(day), min(_local(day, 24), end)
        current = {
            row[0]: row[1:]
            for row in _reads(lo, hi)
            .values_list("consumer_id")
            .annotate(n=Count("seq"), providers=ArrayAgg("provider_id", distinct=True))
            .filter(n__gte=_conf("VOLUME_MIN_READS"))
            .order_by()
        }
        # A department already alerted for the day needs no baseline (the costly part).
        keys = {f"{Alert.Kind.VOLUME}:{c}:{day:%Y%m%d}": c for c in current}
        for key in Alert.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True):
            current.pop(keys[key])
        if not current:
            continue
        # Only for the departments over the minimum, on the consumer index.
        baseline = dict(
            _reads(lo - dt.timedelta(days=baseline_days), lo)
            .filter(consumer_id__in=current)
            .values_list("consumer_id")
            .annotate(n=Count("seq"))
            .order_by()
        )
        known = _existing_departments(current)
        for consumer_id, (n, providers) in current.items():
            mean = baseline.get(consumer_id, 0) / baseline_days
            if consumer_id not in known or n <= _conf("VOLUME_FACTOR") * mean:
                continue
            alert = _raise(
                kind=Alert.Kind.VOLUME,
                key=f"{consumer_id}:{day:%Y%m%d}",
                start=lo,
                end=hi,
                department_id=consumer_id,
                provider_ids=providers or (),
                summary=Text(SUMMARY_VOLUME, {"n": n, "mean": round(mean, 1)}),
                details={"reads": n, "baseline_daily_mean": round(mean, 2)},
            )
            alerts.append(alert)
    return [a for a in alerts if a]


def alerts_detect_all(*, now: dt.datetime | None = None) -> list[Alert]:
    now = now or clock.now()
    return [
        *alerts_detect_volume(now=now),
        *alerts_detect_sensitive_reads(now=now),
        *alerts_detect_off_hours(now=now),
        *alerts_detect_denial_bursts(now=now),
    ]


# E-mail


def _auditor_emails(alert: Alert) -> list[str]:
    users = get_user_model().objects.filter(
        Q(groups__name=PLATFORM_AUDITORS_GROUP)
        | Q(
            memberships__department_id__in=alert.department_ids,
            memberships__role=Membership.Role.AUDITOR,
        ),
        is_active=True,
    )
    return sorted({email for email in users.values_list("email", flat=True) if email})


def alert_link(alert: Alert) -> str:
    """The alert in the console (with GOVDATA["SITE_URL"] in front when it is set)."""
    path = f"{reverse('admin:audit_console_alerts')}?id={alert.pk}"
    return settings.GOVDATA.get("SITE_URL", "").rstrip("/") + path


def alert_email(alert: Alert) -> tuple[str, str]:
    """Subject and body of an alert's e-mail, in the active language: the window in the
    platform's zone, saying which, the departments by name, the details as labelled lines and
    a link to the alert in the console."""
    named = {
        pk: f"{name} ({code})"
        for pk, name, code in Department.objects.filter(pk__in=alert.department_ids).values_list(
            "pk", "name", "code"
        )
    }

    def dept(pk: int | None) -> str:
        return named.get(pk, "-")

    providers = [p for p in alert.department_ids if p != alert.department_id]
    subject = _("[GovData audit] %(kind)s: %(dept)s") % {
        "kind": alert.get_kind_display(),
        "dept": dept(alert.department_id),
    }
    lines = [
        alert.summary_text,
        "",
        f"{_('Window')}: {labels.local_time(alert.window_start)} – "
        f"{labels.local_time(alert.window_end)}",
        f"{_('Consumer department')}: {dept(alert.department_id)}",
    ]
    if providers:
        lines.append(f"{_('Provider departments')}: {', '.join(dept(p) for p in providers)}")
    lines += [f"{label}: {value}" for label, value in labels.alert_detail_items(alert.details)]
    lines += ["", f"{_('Open in the console')}: {alert_link(alert)}"]
    return subject, "\n".join(lines)


def alerts_notify() -> int:
    """E-mail every alert not yet sent to the platform auditors and the auditors of the
    departments concerned (consumer and providers); marks it sent. One message per address:
    departments must not learn each other's auditors."""
    sent = 0
    for alert in Alert.objects.filter(emailed_at__isnull=True).order_by("created_at", "pk"):
        recipients = _auditor_emails(alert)
        if recipients:
            with translation.override(settings.LANGUAGE_CODE):
                subject, body = alert_email(alert)
            for address in recipients:
                send_mail(subject=subject, message=body, from_email=None, recipient_list=[address])
            sent += 1
        Alert.objects.filter(pk=alert.pk).update(emailed_at=clock.now())
    return sent
