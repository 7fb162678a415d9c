"""Anomaly alerts for the signed-in auditor (the admin home page's to-do list,
apps.common.worklist)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from apps.audit.permissions import can_view_alerts
from apps.audit.selectors import alerts_visible
from apps.common import clock
from apps.common.worklist import WorkItem

ALERTS_WITHIN_DAYS = 7


def audit_work(request) -> list[WorkItem]:
    if not can_view_alerts(user=request.user):
        return []
    recent = (
        alerts_visible(user=request.user)
        .filter(created_at__gte=clock.now() - dt.timedelta(days=ALERTS_WITHIN_DAYS))
        .count()
    )
    return [
        WorkItem(
            label=_("Anomaly alerts in the last %(days)d days") % {"days": ALERTS_WITHIN_DAYS},
            count=recent,
            url=reverse("admin:audit_console_alerts"),
        )
    ]
