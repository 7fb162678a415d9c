"""Demands waiting for the signed-in officer's department to answer (the admin home page's
to-do list, apps.common.worklist). Answered ones reach the requesting department as
notifications, which the to-do list counts already."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from apps.catalog import permissions as perms
from apps.catalog.models import Demand
from apps.common.worklist import WorkItem


def demands_to_answer_url() -> str:
    """The demand list narrowed to exactly the rows counted below (DemandDirectionFilter)."""
    return reverse("admin:catalog_demand_changelist") + "?direction=incoming&status__exact=open"


def catalog_work(request: HttpRequest) -> list[WorkItem]:
    officer_of = perms.officer_department_ids(request.user)
    if not officer_of:
        return []
    # The rows the demand list shows this officer (demands_visible), as the link filters them.
    waiting = perms.demands_visible(request.user).filter(
        provider_id__in=officer_of, status=Demand.Status.OPEN
    )
    return [
        WorkItem(label=_("Demands to answer"), count=waiting.count(), url=demands_to_answer_url())
    ]
