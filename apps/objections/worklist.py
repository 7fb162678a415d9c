"""Objections waiting for the signed-in officer's department to answer (the admin home page's
to-do list, apps.common.worklist)."""

from __future__ import annotations

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.common import clock
from apps.common.worklist import WorkItem
from apps.departments.models import Membership
from apps.departments.selectors import user_department_ids
from apps.objections.models import Objection


def objections_work(request) -> list[WorkItem]:
    officer_of = user_department_ids(user=request.user, role=Membership.Role.OFFICER)
    if not officer_of:
        return []
    waiting = Q(status=Objection.Status.OPEN, dataset__provider_id__in=officer_of)
    late = Q(overdue=True) | Q(due_by__lt=clock.today())
    counts = Objection.objects.aggregate(
        open=Count("pk", filter=waiting), late=Count("pk", filter=waiting & late)
    )
    return [
        WorkItem(
            label=_("Data-quality objections to answer"),
            count=counts["open"],
            urgent=counts["late"],
            urgent_label=_("overdue"),
            url=reverse("admin:objections_objection_changelist")
            + "?direction=incoming&status__exact=open",
        )
    ]
