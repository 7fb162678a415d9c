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
settings.GOVDATA["AUDIT_ALERTS"] (defaults in anomalies_common).

An export is recorded twice under one request id (apps/api/views/records.py): when it starts
("export", before any data leaves, without a row count) and when its stream has ended
("export.end", with the rows actually sent). Rows read count the second; reads count the
first.

This module runs every detector (alerts_detect_all); the sliding-window ones are in
anomalies_windows, the local-day ones in anomalies_calendar, what they share in
anomalies_common and the e-mail to the auditors in anomalies_email."""

from __future__ import annotations

import datetime as dt

from apps.audit.anomalies_calendar import alerts_detect_off_hours, alerts_detect_volume
from apps.audit.anomalies_windows import alerts_detect_denial_bursts, alerts_detect_sensitive_reads
from apps.audit.models import Alert
from apps.common import clock


def alerts_detect_all(*, now: dt.datetime | None = None) -> list[Alert]:
    now = now or clock.now()
    return [
        *alerts_detect_volume(now=now),
        *alerts_detect_sensitive_reads(now=now),
        *alerts_detect_off_hours(now=now),
        *alerts_detect_denial_bursts(now=now),
    ]
