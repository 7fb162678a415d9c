"""What every anomaly detector shares: the thresholds (settings.GOVDATA["AUDIT_ALERTS"] over
DEFAULTS), the access events they look at, and raising an alert once per anomaly (its dedupe
key). The detectors are in apps.audit.anomalies_windows and apps.audit.anomalies_calendar."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from apps.audit.models import Alert, AuditEvent
from apps.audit.services import FOLLOW_UP_ACTIONS
from apps.common import clock
from apps.common.texts import Text
from apps.departments.models import Department

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


def anomaly_setting(name: str) -> Any:
    return settings.GOVDATA.get("AUDIT_ALERTS", {}).get(name, DEFAULTS[name])


def minutes_setting(name: str) -> dt.timedelta:
    return dt.timedelta(minutes=anomaly_setting(name))


def alert_raise(
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


def access_events(start: dt.datetime, end: dt.datetime) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        kind="access", occurred_at__gte=start, occurred_at__lt=end, consumer_id__isnull=False
    )


def read_events(start: dt.datetime, end: dt.datetime) -> QuerySet[AuditEvent]:
    """Allowed reads, one event per request: not an export's end event."""
    return access_events(start, end).filter(outcome="allowed").exclude(action__in=FOLLOW_UP_ACTIONS)


def existing_department_ids(ids: Iterable[int]) -> set[int]:
    return set(Department.objects.filter(pk__in=set(ids)).values_list("pk", flat=True))


def local_instant(day: dt.date, hour: int = 0) -> dt.datetime:
    """`hour` o'clock of `day` in the platform's zone (24 is the next midnight)."""
    moment = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour)
    return timezone.make_aware(moment, timezone.get_current_timezone())
