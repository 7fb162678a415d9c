"""The detectors over local days: reads outside working hours, reported once per off-hours
stretch of a local day (before work, after work, or a whole day off; working days taken from
the holiday calendar that the request deadlines use: apps.sharing, govdata.workdays), and reads
far above a department's baseline, reported once per local day."""

from __future__ import annotations

import datetime as dt

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Count, Max, Min
from django.utils import timezone
from django.utils.translation import gettext_noop

from apps.audit.anomalies_common import (
    alert_raise,
    anomaly_setting,
    existing_department_ids,
    local_instant,
    minutes_setting,
    read_events,
)
from apps.audit.models import Alert
from apps.common import clock
from apps.common.texts import Text
from apps.sharing.selectors import holiday_calendar
from govdata import workdays

SUMMARY_VOLUME = gettext_noop("%(n)d reads in one day, daily baseline %(mean).1f")
SUMMARY_OFF_HOURS = gettext_noop("%(n)d reads outside working hours")


def off_hours_stretches(
    start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, dt.datetime]]:
    """The off-hours stretches of the local days that [start, end) touches, as (the stretch's
    own start, its part within [start, end)): before work and after work on a working day, the
    whole of a day off. Working days follow the holiday calendar (public holidays are off, a
    make-up working day is worked). One query."""
    first, last = timezone.localdate(start), timezone.localdate(end)
    calendar = holiday_calendar(start=first, end=last)
    work_start, work_end = anomaly_setting("WORK_START_HOUR"), anomaly_setting("WORK_END_HOUR")
    stretches = []
    day = first
    while day <= last:
        if workdays.is_working_day(day, calendar):
            parts = [
                (local_instant(day), local_instant(day, work_start)),
                (local_instant(day, work_end), local_instant(day, 24)),
            ]
        else:
            parts = [(local_instant(day), local_instant(day, 24))]
        for own_start, own_end in parts:
            lo, hi = max(own_start, start), min(own_end, end)
            if lo < hi:
                stretches.append((own_start, lo, hi))
        day += dt.timedelta(days=1)
    return stretches


def alerts_detect_off_hours(*, now: dt.datetime | None = None) -> list[Alert]:
    end = now or clock.now()
    start = end - minutes_setting("OFF_HOURS_WINDOW_MINUTES")
    alerts = []
    for stretch, lo, hi in off_hours_stretches(start, end):
        rows = list(
            read_events(lo, hi)
            .values_list("consumer_id")
            .annotate(
                n=Count("seq"),
                first_seq=Min("seq"),
                last_seq=Max("seq"),
                providers=ArrayAgg("provider_id", distinct=True),
            )
            .filter(n__gte=anomaly_setting("OFF_HOURS_MIN_READS"))
            .order_by()
        )
        known = existing_department_ids(r[0] for r in rows) if rows else set()
        for consumer_id, n, first_seq, last_seq, providers in rows:
            if consumer_id not in known:
                continue
            alert = alert_raise(
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
    days = sorted(
        {timezone.localdate(end - minutes_setting("SCHEDULE_MINUTES")), timezone.localdate(end)}
    )
    baseline_days = anomaly_setting("BASELINE_DAYS")
    alerts = []
    for day in days:
        lo, hi = local_instant(day), min(local_instant(day, 24), end)
        current = {
            row[0]: row[1:]
            for row in read_events(lo, hi)
            .values_list("consumer_id")
            .annotate(n=Count("seq"), providers=ArrayAgg("provider_id", distinct=True))
            .filter(n__gte=anomaly_setting("VOLUME_MIN_READS"))
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
            read_events(lo - dt.timedelta(days=baseline_days), lo)
            .filter(consumer_id__in=current)
            .values_list("consumer_id")
            .annotate(n=Count("seq"))
            .order_by()
        )
        known = existing_department_ids(current)
        for consumer_id, (n, providers) in current.items():
            mean = baseline.get(consumer_id, 0) / baseline_days
            if consumer_id not in known or n <= anomaly_setting("VOLUME_FACTOR") * mean:
                continue
            alert = alert_raise(
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
