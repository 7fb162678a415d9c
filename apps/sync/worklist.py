"""Recently failed sync runs, for data officers (the admin home page's to-do list,
apps.common.worklist): counted over the rows of the runs list its link opens."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from apps.common.worklist import WorkItem
from apps.departments.models import Membership
from apps.departments.selectors import user_department_ids
from apps.sync.admin_filters import RequestedWithinFilter
from apps.sync.models import SyncRun
from apps.sync.selectors import sync_runs_for_user, sync_runs_requested_within

# One of REQUESTED_WITHIN_DAYS: the link below needs the runs list to offer it.
FAILED_WITHIN_DAYS = 7


def sync_work(request) -> list[WorkItem]:
    if not user_department_ids(user=request.user, role=Membership.Role.OFFICER):
        return []
    # Counted over the very rows the linked list shows: the runs the user may see (as the runs
    # list selects them), failed, and requested within the days of the list's filter.
    failed = sync_runs_requested_within(
        sync_runs_for_user(user=request.user).filter(status=SyncRun.Status.FAILED),
        days=FAILED_WITHIN_DAYS,
    ).count()
    query = urlencode(
        {
            "status__exact": SyncRun.Status.FAILED,
            RequestedWithinFilter.parameter_name: FAILED_WITHIN_DAYS,
        }
    )
    return [
        WorkItem(
            label=_("Sync runs failed in the last %(days)d days") % {"days": FAILED_WITHIN_DAYS},
            count=failed,
            url=f"{reverse('admin:sync_syncrun_changelist')}?{query}",
        )
    ]
