"""Reads of the audit log for the API and the console. Filters resolve codes to ids first so
that each search is an index range scan on (column, occurred_at, seq) within pruned months.
Codes are matched whatever their case by normalising what was typed to the stored form
(upper case, as every department and catalogue code is registered), never by lower() on a
column."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, fields

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.timezone import get_current_timezone, make_aware
from django.utils.translation import gettext as _

from apps.audit.models import Alert, AuditEvent, Checkpoint
from apps.audit.permissions import audit_scope
from apps.catalog.models import Dataset, Field
from apps.departments.models import Department, Membership
from apps.departments.selectors import user_department_ids, user_is_platform_auditor


@dataclass(frozen=True)
class EventFilters:
    dataset: str | None = None  # catalogue code
    consumer: str | None = None  # department code
    provider: str | None = None
    department: str | None = None  # either side
    outcome: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    field: str | None = None
    purpose: str | None = None
    end_user: str | None = None
    kind: str | None = None


# The search parameters of the console's form and of /api/v1/audit/events/: one list, so that
# neither can take a filter the other silently lacks.
FILTER_NAMES = tuple(f.name for f in fields(EventFilters))

# apps/audit/migrations/0006: the field names an access event concerns (returned, asked for,
# filtered on, ordered by), lower-cased. Not indexed (0007: an index over it made every
# audited read's insert seven times dearer); it refines what the time, department, dataset
# and outcome indexes select, as the purpose filter does.
FIELD_NAMES_SQL = "audit_event_field_names(body) @> ARRAY[%s]::text[]"
PURPOSE_SQL = "(body::jsonb ->> 'purpose') ILIKE %s"


def day_bounds(day: dt.date, *, end: bool) -> dt.datetime:
    """The first instant of `day` in the platform's zone, or with `end` the first instant of
    the next day: the exclusive end of a range that includes `day`."""
    if end:
        day += dt.timedelta(days=1)
    return make_aware(dt.datetime.combine(day, dt.time()), get_current_timezone())


def when_parse(value: str, *, end: bool = False) -> dt.datetime:
    """An ISO 8601 date-time (naive: the platform's zone, Asia/Shanghai) or a date. A date
    means its first instant, or for the end of a range (`until`, exclusive) the end of that
    day: "until 2026-11-26" includes the 26th, as an auditor asking for that day means.
    Raises ValueError for anything else, including dates that do not exist (2026-02-30)."""
    value = value.strip()
    # A date first: parse_datetime would take "2026-11-26" for its midnight. Both raise
    # ValueError for a well-formed impossible value.
    try:
        day = parse_date(value)
        if day is not None:
            return day_bounds(day, end=end)
        parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(value)
        if parsed.tzinfo is None:
            parsed = make_aware(parsed, get_current_timezone())
        return parsed
    except OverflowError as exc:  # the day after 9999-12-31, or a zone shift past year 1
        raise ValueError(value) from exc


class UnknownCode(ValidationError):
    """A search names a department by a code no row has, e.g. an old code after a
    department's code was changed: refused, never searched as a code no event has, which would
    read as that department's having done nothing. Its message dict names each filter at
    fault (the console shows them as form errors, the API as `errors`)."""


def _id_by_code(model, code: str) -> int | None:
    """The id of the row whose code is `code` as typed or upper-cased (the stored form), the
    exact spelling first; None when there is none. One query on the unique index of `code`."""
    code = code.strip()
    found = dict(model.objects.filter(code__in={code, code.upper()}).values_list("code", "pk"))
    return found.get(code) or found.get(code.upper())


_CODED_FILTERS = {
    "dataset": Dataset,
    "consumer": Department,
    "provider": Department,
    "department": Department,
}


def _ids_by_code(filters: EventFilters) -> dict[str, int]:
    """The id of each department or dataset the search names, by filter name (-1 for a
    dataset code no row has); UnknownCode naming every department filter whose code no row
    has."""
    ids, unknown = {}, {}
    for name, model in _CODED_FILTERS.items():
        code = getattr(filters, name)
        if not code:
            continue
        found = _id_by_code(model, code)
        if found is not None:
            ids[name] = found
        elif model is Dataset:
            # Matches no event, as a code of a dataset nobody may see would: saying "no such
            # dataset" would tell any caller which draft codes exist. Department codes are
            # public (GET /api/v1/departments/).
            ids[name] = -1
        else:
            unknown[name] = _("No department has the code “%(code)s”.") % {"code": code}
    if unknown:
        raise UnknownCode(unknown, code="unknown_code")
    return ids


def events_visible(*, user) -> QuerySet[AuditEvent]:
    scope = audit_scope(user=user)
    qs = AuditEvent.objects.all()
    return qs if scope is None else qs.filter(scope)


def events_search(*, user, filters: EventFilters) -> QuerySet[AuditEvent]:
    """Newest first, ordered by (occurred_at, seq) descending for keyset pagination. Raises
    UnknownCode for a department code no row has."""
    qs = events_visible(user=user)
    f = filters
    ids = _ids_by_code(f)
    if "dataset" in ids:
        qs = qs.filter(dataset_id=ids["dataset"])
    if "consumer" in ids:
        qs = qs.filter(consumer_id=ids["consumer"])
    if "provider" in ids:
        qs = qs.filter(provider_id=ids["provider"])
    if "department" in ids:
        qs = qs.filter(Q(consumer_id=ids["department"]) | Q(provider_id=ids["department"]))
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.since:
        qs = qs.filter(occurred_at__gte=f.since)
    if f.until:
        qs = qs.filter(occurred_at__lt=f.until)
    if f.field:
        # Returned, asked for, filtered on or ordered by: a denied read returned nothing, and
        # the field it tried is only in its filters. Field names are lower case (catalogue
        # rule), so what was typed is lower-cased, never the indexed names.
        name = f.field.strip().lower()
        qs = qs.extra(where=[FIELD_NAMES_SQL], params=[name])  # noqa: S610  # nosec B610
    if f.purpose:
        like = "%" + f.purpose.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        qs = qs.extra(where=[PURPOSE_SQL], params=[like])  # noqa: S610  # nosec B610
    if f.end_user:
        qs = qs.filter(end_user=f.end_user)
    return qs.order_by("-occurred_at", "-seq")


def event_field_labels(*, event: AuditEvent) -> dict[str, str]:
    """The labels of the fields of the dataset an event concerns (read, or named in an
    administrative event's details), by field name; at most one query, none without a
    dataset. The labels are the catalogue's current ones: the event records names only."""
    details = event.data.get("details")
    code = details.get("dataset") if isinstance(details, dict) else None
    if event.dataset_id is not None:
        qs = Field.objects.filter(dataset_id=event.dataset_id)
    elif isinstance(code, str) and code:
        qs = Field.objects.filter(dataset__code=code)
    else:
        return {}
    return dict(qs.values_list("name", "label"))


def cursor_encode(event: AuditEvent) -> str:
    raw = f"{event.occurred_at.isoformat()}|{event.seq}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str) -> tuple[dt.datetime, int]:
    """Raises ValueError for anything that is not a cursor we issued."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    when, seq = raw.split("|")
    parsed = dt.datetime.fromisoformat(when)
    if parsed.tzinfo is None:
        raise ValueError("cursor time has no zone")
    return parsed, int(seq)


def events_page(
    *, qs: QuerySet[AuditEvent], cursor: str | None, size: int
) -> tuple[list[AuditEvent], str | None]:
    """Keyset pagination (no COUNT, no OFFSET): one page and the cursor of the next, if any."""
    if cursor:
        when, seq = cursor_decode(cursor)
        qs = qs.filter(Q(occurred_at__lt=when) | Q(occurred_at=when, seq__lt=seq))
    rows = list(qs[: size + 1])
    if len(rows) > size:
        return rows[:size], cursor_encode(rows[size - 1])
    return rows, None


def checkpoints_list(*, limit: int = 100) -> QuerySet[Checkpoint]:
    return Checkpoint.objects.order_by("-seq", "-id")[:limit]


def alerts_visible(*, user) -> QuerySet[Alert]:
    qs = Alert.objects.select_related("department", "provider")
    if user_is_platform_auditor(user=user):
        return qs
    audited = user_department_ids(user=user, role=Membership.Role.AUDITOR)
    if not audited:
        return qs.none()
    return qs.filter(
        Q(department_id__in=audited)
        | Q(provider_id__in=audited)
        | Q(provider_ids__overlap=sorted(audited))
    )


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    providers: list[str]  # "name (code)" of every provider concerned


def alerts_listed(*, alerts: QuerySet[Alert], limit: int = 200) -> list[AlertRow]:
    """The newest `limit` of `alerts` with their providers named: two queries, whatever the
    number of alerts and providers."""
    rows = list(alerts.select_related("department")[:limit])
    wanted = {p for a in rows for p in a.department_ids if p != a.department_id}
    names = {
        pk: f"{name} ({code})"
        for pk, name, code in Department.objects.filter(pk__in=wanted).values_list(
            "pk", "name", "code"
        )
    }
    return [
        AlertRow(
            alert=a,
            providers=[names.get(p, str(p)) for p in a.department_ids if p != a.department_id],
        )
        for a in rows
    ]
