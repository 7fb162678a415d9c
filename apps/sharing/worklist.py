"""What requests, grants and notifications leave to do for the signed-in officer (the admin
home page's to-do list, apps.common.worklist)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.common import clock
from apps.common.worklist import WorkItem
from apps.departments.models import Membership
from apps.departments.selectors import user_department_ids
from apps.sharing.models import DataRequest, Grant, Notification

GRANT_ENDING_DAYS = 14


def sharing_work(request) -> list[WorkItem]:
    user = request.user
    officer_of = user_department_ids(user=user, role=Membership.Role.OFFICER)
    items: list[WorkItem] = []
    if officer_of:
        today = clock.today()
        pending = Q(status=DataRequest.Status.SUBMITTED)
        incoming = pending & Q(dataset__provider_id__in=officer_of)
        late = Q(overdue=True) | Q(due_by__lt=today)
        counts = DataRequest.objects.aggregate(
            incoming=Count("pk", filter=incoming),
            incoming_late=Count("pk", filter=incoming & late),
            outgoing=Count("pk", filter=pending & Q(consumer_id__in=officer_of)),
        )
        requests = reverse("admin:sharing_datarequest_changelist")
        items.append(
            WorkItem(
                label=_("Data requests to answer"),
                count=counts["incoming"],
                urgent=counts["incoming_late"],
                urgent_label=_("overdue"),
                url=f"{requests}?direction=incoming&status__exact=submitted",
            )
        )
        items.append(
            WorkItem(
                label=_("Our requests awaiting an answer"),
                count=counts["outgoing"],
                url=f"{requests}?direction=outgoing&status__exact=submitted",
            )
        )
        now = clock.now()
        ending = Grant.objects.filter(
            consumer_id__in=officer_of,
            status=Grant.Status.ACTIVE,
            valid_until__gt=now,
            valid_until__lte=now + dt.timedelta(days=GRANT_ENDING_DAYS),
        ).count()
        items.append(
            WorkItem(
                label=_("Grants we hold ending within %(days)d days") % {"days": GRANT_ENDING_DAYS},
                count=ending,
                url=reverse("admin:sharing_grant_changelist")
                + f"?direction=outgoing&ending_within={GRANT_ENDING_DAYS}",
            )
        )
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    items.append(
        WorkItem(
            label=_("Unread notifications"),
            count=unread,
            url=reverse("admin:sharing_notification_changelist") + "?read_at__isempty=1",
        )
    )
    return items
