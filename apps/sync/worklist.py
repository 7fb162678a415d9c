"""Failed sync runs of the signed-in officer's datasets (the admin home page's to-do list,
apps.common.worklist)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from apps.common import clock
from apps.common.worklist import WorkItem
from apps.departments.models import Membership
from apps.departments.selectors import user_department_ids
from apps.sync.models import SyncRun

FAILED_WITHIN_DAYS = 7


def sync_work(request) -> list[WorkItem]:
    officer_of = user_department_ids(user=request.user, role=Membership.Role.OFFICER)
    if not officer_of:
        return []
    failed = SyncRun.objects.filter(
        dataset__provider_id__in=officer_of,
        status=SyncRun.Status.FAILED,
        created_at__gte=clock.now() - dt.timedelta(days=FAILED_WITHIN_DAYS),
    ).count()
    return [
        WorkItem(
            label=_("Sync runs failed in the last %(days)d days") % {"days": FAILED_WITHIN_DAYS},
            count=failed,
            url=reverse("admin:sync_syncrun_changelist") + "?status__exact=failed",
        )
    ]
