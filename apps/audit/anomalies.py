"""Anomaly detectors over the access log, run by Celery beat. Each looks at one closed time
window; the alert's dedupe key makes a second run over the same window a no-op. Thresholds
come from settings.GOVDATA["AUDIT_ALERTS"] (defaults below).

An export is recorded twice under one request id (apps/api/views/records.py): when it starts
("export", before any data leaves, without a row count) and when its stream has ended
("export.end", with the rows actually sent). The export detector reads the second; the read
counts count the first only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils.translation import gettext as _

from apps.audit.models import Alert, AuditEvent
from apps.audit.services import FOLLOW_UP_ACTIONS
from apps.catalog.models import Field
from apps.common import clock
from apps.departments.models import PLATFORM_AUDITORS_GROUP, Department, Membership

DEFAULTS = {
    "VOLUME_FACTOR": 5.0,  # reads in the last day vs the daily mean of the baseline period
    "VOLUME_MIN_READS": 200,
    "BASELINE_DAYS": 28,
    "EXPORT_MIN_ROWS": 10_000,
    "WORK_START_HOUR": 8,
    "WORK_END_HOUR": 20,
    "OFF_HOURS_MIN_READS": 20,
    "DENIAL_BURST": 20,  # denied requests by one consumer within DENIAL_WINDOW_MINUTES
    "DENIAL_WINDOW_MINUTES": 10,
}
SENSITIVE = ("sensitive", "highly_sensitive")


def _conf(name: str) -> Any:
    return settings.GOVDATA.get("AUDIT_ALERTS", {}).get(name, DEFAULTS[name])


def _raise(
    *,
    kind: str,
    key: str,
    summary: str,
    start,
    end,
    department_id=None,
    provider_id=None,
    details: dict | None = None,
) -> Alert | None:
    try:
        with transaction.atomic():
            return Alert.objects.create(
                kind=kind,
                department_id=department_id,
                provider_id=provider_id,
                summary=summary[:500],
                details=details or {},
                window_start=start,
                window_end=end,
                dedupe_key=f"{kind}:{key}"[:200],
                created_at=clock.now(),
            )
    except IntegrityError:
        return None  # already raised for this window


def _events(start, end):
    return AuditEvent.objects.filter(
        kind="access", outcome="allowed", occurred_at__gte=start, occurred_at__lt=end
    )


def _reads(start, end):
    """Allowed reads, one event per request: not an export's end event."""
    return _events(start, end).exclude(action__in=FOLLOW_UP_ACTIONS)


def _export_ends(start, end):
    """The end events of exports, each with the rows the export actually sent."""
    return _events(start, end).filter(action="export.end")


def _existing_departments(ids) -> set[int]:
    return set(Department.objects.filter(pk__in=ids).values_list("pk", flat=True))


def alerts_detect_volume(*, now: dt.datetime | None = None) -> list[Alert]:
    end = now or clock.now()
    start = end - dt.timedelta(days=1)
    days = _conf("BASELINE_DAYS")
    current = dict(
        _reads(start, end).values_list("consumer_id").annotate(n=Count("seq")).order_by()
    )
    baseline = dict(
        _reads(start - dt.timedelta(days=days), start)
        .values_list("consumer_id")
        .annotate(n=Count("seq"))
        .order_by()
    )
    known = _existing_departments(current)
    alerts = []
    for consumer_id, n in current.items():
        mean = baseline.get(consumer_id, 0) / days
        if (
            consumer_id in known
            and n >= _conf("VOLUME_MIN_READS")
            and n > _conf("VOLUME_FACTOR") * mean
        ):
            alert = _raise(
                kind=Alert.Kind.VOLUME,
                key=f"{consumer_id}:{end:%Y%m%d%H}",
                start=start,
                end=end,
                department_id=consumer_id,
                summary=_("%(n)d reads in one day, daily baseline %(mean).1f")
                % {"n": n, "mean": mean},
                details={"reads": n, "baseline_daily_mean": round(mean, 2)},
            )
            alerts.append(alert)
    return [a for a in alerts if a]


def alerts_detect_sensitive_exports(*, now: dt.datetime | None = None) -> list[Alert]:
    end = now or clock.now()
    start = end - dt.timedelta(hours=1)
    exports = list(
        _export_ends(start, end).extra(  # noqa: S610 - constant SQL, the threshold is a parameter
            where=["(body::jsonb ->> 'row_count')::bigint >= %s"],
            params=[_conf("EXPORT_MIN_ROWS")],
        )
    )
    sensitive = set(
        Field.objects.filter(
            dataset_id__in={e.dataset_id for e in exports}, sensitivity__in=SENSITIVE
        ).values_list("dataset_id", "name")
    )
    alerts = []
    for event in exports:
        names = sorted(n for n in event.fields or {} if (event.dataset_id, n) in sensitive)
        if names and event.consumer_id in _existing_departments([event.consumer_id]):
            alerts.append(
                _raise(
                    kind=Alert.Kind.SENSITIVE_EXPORT,
                    key=str(event.seq),
                    start=start,
                    end=end,
                    department_id=event.consumer_id,
                    provider_id=event.provider_id,
                    summary=_(
                        "Export of %(rows)d rows with sensitive fields %(fields)s from %(ds)s"
                    )
                    % {
                        "rows": event.row_count,
                        "fields": ", ".join(names),
                        "ds": event.dataset_code,
                    },
                    details={"seq": event.seq, "fields": names, "rows": event.row_count},
                )
            )
    return [a for a in alerts if a]


def alerts_detect_off_hours(*, now: dt.datetime | None = None) -> list[Alert]:
    end = now or clock.now()
    start = end - dt.timedelta(hours=1)
    off = (
        Q(hour__lt=_conf("WORK_START_HOUR"))
        | Q(hour__gte=_conf("WORK_END_HOUR"))
        | Q(weekday__gte=6)
    )
    rows = (
        _reads(start, end)
        .annotate(hour=ExtractHour("occurred_at"), weekday=ExtractIsoWeekDay("occurred_at"))
        .filter(off)
        .values_list("consumer_id")
        .annotate(n=Count("seq"))
        .order_by()
    )
    alerts = []
    known = None
    for consumer_id, n in rows:
        known = known if known is not None else _existing_departments([r[0] for r in rows])
        if n >= _conf("OFF_HOURS_MIN_READS") and consumer_id in known:
            alerts.append(
                _raise(
                    kind=Alert.Kind.OFF_HOURS,
                    key=f"{consumer_id}:{start:%Y%m%d%H%M}",
                    start=start,
                    end=end,
                    department_id=consumer_id,
                    summary=_("%(n)d reads outside working hours") % {"n": n},
                    details={"reads": n},
                )
            )
    return [a for a in alerts if a]


def alerts_detect_denial_bursts(*, now: dt.datetime | None = None) -> list[Alert]:
    end = now or clock.now()
    start = end - dt.timedelta(minutes=_conf("DENIAL_WINDOW_MINUTES"))
    rows = list(
        AuditEvent.objects.filter(
            kind="access", outcome="denied", occurred_at__gte=start, occurred_at__lt=end
        )
        .values_list("consumer_id")
        .annotate(n=Count("seq"), datasets=Count("dataset_id", distinct=True))
        .order_by()
    )
    known = _existing_departments([r[0] for r in rows])
    alerts = []
    for consumer_id, n, datasets in rows:
        if n >= _conf("DENIAL_BURST") and consumer_id in known:
            alerts.append(
                _raise(
                    kind=Alert.Kind.DENIAL_BURST,
                    key=f"{consumer_id}:{start:%Y%m%d%H%M}",
                    start=start,
                    end=end,
                    department_id=consumer_id,
                    summary=_("%(n)d denied requests in %(m)d minutes over %(d)d datasets")
                    % {"n": n, "m": _conf("DENIAL_WINDOW_MINUTES"), "d": datasets},
                    details={"denied": n, "datasets": datasets},
                )
            )
    return [a for a in alerts if a]


def alerts_detect_all(*, now: dt.datetime | None = None) -> list[Alert]:
    now = now or clock.now()
    return [
        *alerts_detect_volume(now=now),
        *alerts_detect_sensitive_exports(now=now),
        *alerts_detect_off_hours(now=now),
        *alerts_detect_denial_bursts(now=now),
    ]


def _auditor_emails(alert: Alert) -> list[str]:
    from django.contrib.auth import get_user_model

    departments = [d for d in (alert.department_id, alert.provider_id) if d]
    users = get_user_model().objects.filter(
        Q(groups__name=PLATFORM_AUDITORS_GROUP)
        | Q(memberships__department_id__in=departments, memberships__role=Membership.Role.AUDITOR)
    )
    return sorted({u.email for u in users.distinct() if u.email})


def alerts_notify() -> int:
    """E-mail every alert not yet sent to the platform auditors and the auditors of the
    departments concerned; marks it sent."""
    sent = 0
    for alert in Alert.objects.filter(emailed_at__isnull=True).select_related("department"):
        recipients = _auditor_emails(alert)
        if recipients:
            send_mail(
                subject=_("[GovData audit] %(kind)s: %(dept)s")
                % {"kind": alert.get_kind_display(), "dept": alert.department or "-"},
                message=f"{alert.summary}\n{alert.window_start:%Y-%m-%d %H:%M} – "
                f"{alert.window_end:%Y-%m-%d %H:%M}\n{alert.details}",
                from_email=None,
                recipient_list=recipients,
            )
            sent += 1
        Alert.objects.filter(pk=alert.pk).update(emailed_at=clock.now())
    return sent
