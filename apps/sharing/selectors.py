"""Reads about requests, grants and the holiday calendar."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from apps.common import clock
from apps.departments.selectors import user_department_ids, user_is_platform_auditor
from apps.sharing.models import DataRequest, Grant, Holiday
from govdata import workdays


def holiday_calendar(*, start: dt.date, end: dt.date) -> dict[dt.date, str]:
    return dict(Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "kind"))


def working_days_add(*, start: dt.date, days: int) -> dt.date:
    low, high = workdays.calendar_window(start, days)
    return workdays.add_working_days(start, days, holiday_calendar(start=low, end=high))


def working_days_until(*, start: dt.date, end: dt.date) -> int:
    low, high = min(start, end), max(start, end)
    return workdays.working_days_between(start, end, holiday_calendar(start=low, end=high))


def requests_visible_to(*, user) -> QuerySet[DataRequest]:
    """Requests where one of the user's departments is the provider or the consumer."""
    qs = DataRequest.objects.select_related("consumer", "dataset", "dataset__provider")
    if user_is_platform_auditor(user=user):
        return qs
    ids = user_department_ids(user=user)
    return qs.filter(Q(consumer_id__in=ids) | Q(dataset__provider_id__in=ids))


def requests_for_department(*, department) -> QuerySet[DataRequest]:
    return DataRequest.objects.filter(
        Q(consumer=department) | Q(dataset__provider=department)
    ).select_related("consumer", "dataset", "dataset__provider")


def requests_incoming(*, department) -> QuerySet[DataRequest]:
    """The provider's queue: pending requests, the most urgent first."""
    return (
        DataRequest.objects.filter(
            dataset__provider=department, status=DataRequest.Status.SUBMITTED
        )
        .select_related("consumer", "dataset")
        .order_by("due_by", "id")
    )


def grants_visible_to(*, user) -> QuerySet[Grant]:
    qs = Grant.objects.select_related("consumer", "dataset", "dataset__provider", "request")
    if user_is_platform_auditor(user=user):
        return qs
    ids = user_department_ids(user=user)
    return qs.filter(Q(consumer_id__in=ids) | Q(dataset__provider_id__in=ids))


def grants_active(*, dataset=None, at: dt.datetime | None = None) -> QuerySet[Grant]:
    at = at or clock.now()
    qs = Grant.objects.filter(
        status=Grant.Status.ACTIVE, valid_from__lte=at, valid_until__gt=at
    ).select_related("consumer", "dataset")
    return qs.filter(dataset=dataset) if dataset is not None else qs
