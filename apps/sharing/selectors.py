"""Reads about requests, grants and the holiday calendar."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, F, OuterRef, Prefetch, Q, QuerySet, Subquery, When
from django.db.models.functions import JSONArray, JSONObject
from django.utils import timezone

from apps.catalog.models import DatasetVersion
from apps.common import clock
from apps.departments.selectors import user_department_ids, user_is_platform_auditor
from apps.sharing.models import DataRequest, DataRequestField, Grant, GrantField, Holiday
from apps.sharing.recording import granted_masks
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


def requests_pending_for(*, department, dataset_ids: list[int]) -> dict[int, int]:
    """dataset id -> id of the department's pending request for it, among `dataset_ids`."""
    pending = DataRequest.objects.filter(
        consumer=department, dataset_id__in=dataset_ids, status=DataRequest.Status.SUBMITTED
    ).values_list("dataset_id", "pk")
    return dict(pending)


def requests_of_department_for(*, department, dataset, limit: int = 10) -> list[DataRequest]:
    """The department's latest requests for `dataset`, newest first."""
    return list(
        DataRequest.objects.filter(consumer=department, dataset=dataset).order_by(
            "-created_at", "-id"
        )[:limit]
    )


def requests_followed(*, department, status: str | None = None) -> QuerySet[DataRequest]:
    """requests_for_department (optionally only those in `status`) with what their two sides
    follow loaded in a fixed number of queries whatever the number of requests: the requested
    fields (`items`, by name even once removed from the list: request_field_names), the grant
    (if any) and the grant's fields still held (grant_fields_held)."""
    qs = requests_for_department(department=department).select_related("grant")
    if status is not None:
        qs = qs.filter(status=status)
    return qs.prefetch_related(
        Prefetch("items", queryset=request_items_ordered()),
        Prefetch(
            "grant__items",
            queryset=GrantField.objects.filter(removed_at__isnull=True)
            .select_related("field")
            .order_by("field__position", "field_id"),
        ),
    )


def request_items_ordered() -> QuerySet[DataRequestField]:
    """A request's fields in the list's order; those removed from the list since come last."""
    return DataRequestField.objects.order_by(F("field__position").asc(nulls_last=True), "id")


def request_field_names(request: DataRequest) -> list[str]:
    """The names of the fields a request asked for, those removed from the list since included
    (its `items` as requests_followed loads them). `request.fields` joins the catalogue and so
    leaves out a removed field."""
    return [item.field_name for item in request.items.all()]


def with_field_removal(rows: QuerySet, *, parent: str) -> QuerySet:
    """Rows naming a catalogue field (DataRequestField, GrantField, ObjectionField; `parent`:
    the name of their request, grant or objection) with, when their field has been removed
    from the list since, the publication that removed it: `field_removed_at` (when it was
    published) and `field_removed_reason` (its reason, as the officer wrote it); both None for
    a field still listed. The published versions keep every removal with its reason, so the
    rows need not copy them. Still one query: two subqueries."""
    # A row only ever names a published field, so the first version published since the row
    # was written that no longer lists the field is the one that removed it (a field of the
    # same name may have come back later). Read from the snapshot rather than the changes: the
    # first recorded version of a dataset published before versions were kept has no diff.
    removals = (
        DatasetVersion.objects.filter(
            dataset_id=OuterRef(f"{parent}__dataset_id"),
            published_at__gte=OuterRef(f"{parent}__created_at"),
        )
        .exclude(
            snapshot__fields__contains=JSONArray(JSONObject(name=OuterRef("field_name"))),
        )
        .order_by("published_at", "version")
    )
    removed = Q(field__isnull=True)
    return rows.annotate(
        field_removed_at=Case(When(removed, then=Subquery(removals.values("published_at")[:1]))),
        field_removed_reason=Case(When(removed, then=Subquery(removals.values("reason")[:1]))),
    )


def request_grant(request: DataRequest) -> Grant | None:
    """The grant of an approved (then possibly revoked or expired) request, else None."""
    return getattr(request, "grant", None)  # a missing reverse one-to-one raises AttributeError


def grant_fields_held(*, grant: Grant) -> dict[str, str]:
    """Field name to the masking rule the holder reads it under (the published rule, or the
    grant's stricter one), for the grant's fields not taken away since; its items as
    requests_followed loads them."""
    return granted_masks(i for i in grant.items.all() if i.removed_at is None)


def grant_last_day(*, grant: Grant) -> dt.date:
    """The last local day a grant holds: its end is an exclusive instant, the next midnight
    for a grant approved until a date (grant_services.end_of_day)."""
    return timezone.localtime(grant.valid_until - dt.timedelta(microseconds=1)).date()


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
