"""List filters of the sharing admin: direction (what the viewer's departments provide or
asked for), grants ending soon, notifications read or unread."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from apps.common import clock
from apps.departments.selectors import user_department_ids
from apps.sharing.models import Grant


class DirectionFilter(admin.SimpleListFilter):
    """Rows where one of the viewer's departments provides, or consumes; not offered to
    viewers without a department (platform auditors)."""

    title = _("direction")
    parameter_name = "direction"
    labels = (_("Incoming (we provide)"), _("Outgoing (we asked)"))

    def lookups(self, request, model_admin):
        if not user_department_ids(user=request.user):
            return []
        return [("incoming", self.labels[0]), ("outgoing", self.labels[1])]

    def queryset(self, request, queryset):
        ids = user_department_ids(user=request.user)
        if self.value() == "incoming":
            return queryset.filter(dataset__provider_id__in=ids)
        if self.value() == "outgoing":
            return queryset.filter(consumer_id__in=ids)
        return queryset


class GrantDirectionFilter(DirectionFilter):
    labels = (_("Provided by my department"), _("Received by my department"))


class EndingFilter(admin.SimpleListFilter):
    """Live grants whose last day is near (the home page's to-do list links here)."""

    title = _("ending")
    parameter_name = "ending_within"
    DAYS = (14, 30)

    def lookups(self, request, model_admin):
        return [(str(d), _("Within %(days)d days") % {"days": d}) for d in self.DAYS]

    def queryset(self, request, queryset):
        if self.value() not in {str(d) for d in self.DAYS}:
            return queryset
        now = clock.now()
        return queryset.filter(
            status=Grant.Status.ACTIVE,
            valid_until__gt=now,
            valid_until__lte=now + dt.timedelta(days=int(self.value())),
        )


class ReadFilter(admin.SimpleListFilter):
    """Unread or read, rather than the "empty / not empty" of the read time. Its parameter is
    the one of Django's empty-field filter, which the home page's to-do list links to."""

    title = _("status")
    parameter_name = "read_at__isempty"

    def lookups(self, request, model_admin):
        return [("1", _("Unread")), ("0", _("Read"))]

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(read_at__isnull=self.value() == "1")
        return queryset
