"""The sliding-window detectors: bulk reads of sensitive fields and bursts of denied requests.
They look at every span of their window's length (each event may start one), not at buckets
laid down by the schedule, so a burst that straddles a run is still caught. A span is reported
from its first event; events up to the end of a reported span belong to that alert, so a
second run, or the rest of the same burst, raises nothing new."""

from __future__ import annotations

import datetime as dt

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import BigIntegerField, Count, Max, Q, QuerySet, Sum
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_noop

from apps.audit.anomalies_common import (
    access_events,
    alert_raise,
    anomaly_setting,
    existing_department_ids,
    minutes_setting,
)
from apps.audit.models import Alert, AuditEvent
from apps.catalog.models import Dataset, Field
from apps.common import clock
from apps.common.texts import Text

SENSITIVE = ("sensitive", "highly_sensitive")
# Reads that return rows: a page, a lookup, an export's end (its rows actually sent).
ROW_ACTIONS = ("list", "lookup", "export.end")
ROW_COUNT_SQL = "COALESCE((body::jsonb ->> 'row_count')::bigint, 0)"
SUMMARY_SENSITIVE = gettext_noop(
    "%(rows)d rows with sensitive fields %(fields)s read from %(ds)s within %(m)d minutes"
)
SUMMARY_DENIALS = gettext_noop("%(n)d denied requests in %(m)d minutes over %(d)d datasets")


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
    span = minutes_setting("SENSITIVE_WINDOW_MINUTES")
    start = end - span - 2 * minutes_setting("SCHEDULE_MINUTES")
    field_table = Field._meta.db_table
    returned_sensitive = (
        f"EXISTS (SELECT 1 FROM {field_table} f WHERE f.dataset_id = audit_event.dataset_id"
        " AND f.sensitivity IN %s AND (audit_event.body::jsonb -> 'fields') ? f.name)"
    )
    reads = (
        access_events(start, end)  # nosec B610 - constant SQL (the .extra below)
        .filter(outcome="allowed", action__in=ROW_ACTIONS, dataset_id__isnull=False)
        .extra(where=[returned_sensitive], params=[SENSITIVE])  # noqa: S610 - constant SQL
    )
    reads = _not_yet_reported(reads, kind=Alert.Kind.SENSITIVE_EXPORT, since=start, dataset=True)
    spans = _first_spans(
        reads,
        group=("consumer_id", "dataset_id"),
        weight=ROW_COUNT_SQL,
        span=span,
        threshold=anomaly_setting("EXPORT_MIN_ROWS"),
    )
    known = existing_department_ids(s[0] for s in spans)
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
        alert = alert_raise(
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
                    "m": anomaly_setting("SENSITIVE_WINDOW_MINUTES"),
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


def alerts_detect_denial_bursts(*, now: dt.datetime | None = None) -> list[Alert]:
    end = now or clock.now()
    span = minutes_setting("DENIAL_WINDOW_MINUTES")
    start = end - span - 2 * minutes_setting("SCHEDULE_MINUTES")
    denials = access_events(start, end).filter(outcome="denied")
    denials = _not_yet_reported(denials, kind=Alert.Kind.DENIAL_BURST, since=start)
    spans = _first_spans(
        denials,
        group=("consumer_id",),
        weight="1",
        span=span,
        threshold=anomaly_setting("DENIAL_BURST"),
    )
    known = existing_department_ids(s[0] for s in spans)
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
        alert = alert_raise(
            kind=Alert.Kind.DENIAL_BURST,
            key=f"{consumer_id}:{first_seq}",
            start=first_at,
            end=first_at + span,
            department_id=consumer_id,
            provider_ids=totals["providers"] or (),
            summary=Text(
                SUMMARY_DENIALS,
                {
                    "n": totals["n"],
                    "m": anomaly_setting("DENIAL_WINDOW_MINUTES"),
                    "d": totals["datasets"],
                },
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
