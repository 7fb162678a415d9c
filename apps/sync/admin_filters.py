"""List filters of the sync admin."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.sync.models import SyncRun
from apps.sync.selectors import sync_runs_requested_within

# The day counts offered. The home page's "failed in the last 7 days" links to one of them
# (apps.sync.worklist), so that its count and the list it opens hold the same runs.
REQUESTED_WITHIN_DAYS = (7, 30)


class RequestedWithinFilter(admin.SimpleListFilter):
    title = _("requested at")
    parameter_name = "requested_within"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [
            (str(days), gettext("Last %(days)d days") % {"days": days})
            for days in REQUESTED_WITHIN_DAYS
        ]

    def queryset(self, request, queryset: QuerySet[SyncRun]) -> QuerySet[SyncRun]:
        value = self.value()
        if value not in {str(days) for days in REQUESTED_WITHIN_DAYS}:
            return queryset  # none chosen, or a value the list does not offer
        return sync_runs_requested_within(queryset, days=int(value))
