"""Aggregates for the console's charts and top lists, over an already scoped queryset."""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from apps.audit.models import AuditEvent
from apps.catalog.models import Dataset, Field
from apps.departments.models import Department


def _days(since: dt.date, until: dt.date) -> list[dt.date]:
    return [since + dt.timedelta(days=i) for i in range((until - since).days + 1)]


def per_day(
    *, qs: QuerySet[AuditEvent], column: str, since: dt.date, until: dt.date, top: int = 6
) -> tuple[list[dt.date], dict[str, list[int]]]:
    """Counts per day for the `top` values of `column` (a department id column)."""
    rows = list(
        qs.annotate(day=TruncDate("occurred_at"))
        .values_list("day", column)
        .annotate(n=Count("seq"))
        .order_by()
    )
    totals: dict[int, int] = {}
    for _day, key, n in rows:
        totals[key] = totals.get(key, 0) + n
    keep = sorted(totals, key=lambda k: -totals[k])[:top]
    names = {
        pk: named(name, code)
        for pk, name, code in Department.objects.filter(pk__in=keep).values_list(
            "pk", "name", "code"
        )
    }
    days = _days(since, until)
    index = {day: i for i, day in enumerate(days)}
    series = {names.get(k, str(k)): [0] * len(days) for k in keep}
    for day, key, n in rows:
        if key in keep and day in index:
            series[names.get(key, str(key))][index[day]] += n
    return days, series


def named(name: str, code: str) -> str:
    """`name (code)`, as the rest of the console names departments and datasets: the name for
    people, the code to match the log and its exports."""
    return f"{name} ({code})" if name else code


def denials_per_day(
    *, qs: QuerySet[AuditEvent], since: dt.date, until: dt.date
) -> tuple[list[dt.date], dict[str, list[int]]]:
    days = _days(since, until)
    index = {day: i for i, day in enumerate(days)}
    values = [0] * len(days)
    for day, n in (
        qs.filter(outcome="denied")
        .annotate(day=TruncDate("occurred_at"))
        .values_list("day")
        .annotate(n=Count("seq"))
        .order_by()
    ):
        if day in index:
            values[index[day]] = n
    return days, {"denied": values}


def top_datasets(*, qs: QuerySet[AuditEvent], limit: int = 10) -> list[tuple[str, int]]:
    rows = list(
        qs.exclude(dataset_id=None)
        .values_list("dataset_id")
        .annotate(n=Count("seq"))
        .order_by("-n")[:limit]
    )
    names = {
        pk: named(name, code)
        for pk, name, code in Dataset.objects.filter(pk__in=[r[0] for r in rows]).values_list(
            "pk", "name", "code"
        )
    }
    return [(names.get(pk, str(pk)), n) for pk, n in rows]


def top_fields(*, qs: QuerySet[AuditEvent], limit: int = 10) -> list[tuple[str, int]]:
    """Fields by the number of reads that returned them: `label (dataset code.field)`, the
    labels the catalogue gives them now (one query for all)."""
    sql, params = qs.values("body").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.body::jsonb ->> 'dataset_code', k, count(*) FROM (" + sql + ") e,"
            " jsonb_object_keys(COALESCE(e.body::jsonb -> 'fields', '{}'::jsonb)) k"
            " GROUP BY 1, 2 ORDER BY 3 DESC LIMIT %s",
            [*params, limit],
        )
        rows = cursor.fetchall()
    labels = {}
    if rows:
        labels = {
            (ds, name): label
            for ds, name, label in Field.objects.filter(
                dataset__code__in={r[0] for r in rows}, name__in={r[1] for r in rows}
            ).values_list("dataset__code", "name", "label")
        }
    return [(named(labels.get((ds, name), ""), f"{ds}.{name}"), n) for ds, name, n in rows]
