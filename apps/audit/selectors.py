"""Reads of the audit log for the API and the console. Filters resolve codes to ids first so
that each search is an index range scan on (column, occurred_at, seq) within pruned months.
Codes are matched whatever their case by normalising what was typed to the stored form
(upper case, as every department and catalogue code is registered), never by lower() on a
column."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

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


def _id_by_code(model, code: str) -> int:
    """The id of the row whose code is `code` as typed or upper-cased (the stored form), the
    exact spelling first; -1 (matching no event) when there is none. One query on the unique
    index of `code`."""
    code = code.strip()
    found = dict(model.objects.filter(code__in={code, code.upper()}).values_list("code", "pk"))
    return found.get(code) or found.get(code.upper()) or -1


def _department_id(code: str) -> int:
    return _id_by_code(Department, code)


def events_visible(*, user) -> QuerySet[AuditEvent]:
    scope = audit_scope(user=user)
    qs = AuditEvent.objects.all()
    return qs if scope is None else qs.filter(scope)


def events_search(*, user, filters: EventFilters) -> QuerySet[AuditEvent]:
    """Newest first, ordered by (occurred_at, seq) descending for keyset pagination."""
    qs = events_visible(user=user)
    f = filters
    if f.dataset:
        qs = qs.filter(dataset_id=_id_by_code(Dataset, f.dataset))
    if f.consumer:
        qs = qs.filter(consumer_id=_department_id(f.consumer))
    if f.provider:
        qs = qs.filter(provider_id=_department_id(f.provider))
    if f.department:
        dept = _department_id(f.department)
        qs = qs.filter(Q(consumer_id=dept) | Q(provider_id=dept))
    if f.outcome:
        qs = qs.filter(outcome=f.outcome)
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.since:
        qs = qs.filter(occurred_at__gte=f.since)
    if f.until:
        qs = qs.filter(occurred_at__lt=f.until)
    if f.field:
        qs = qs.extra(where=["(body::jsonb -> 'fields') ? %s"], params=[f.field])  # noqa: S610
    if f.purpose:
        like = "%" + f.purpose.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        qs = qs.extra(where=["(body::jsonb ->> 'purpose') ILIKE %s"], params=[like])  # noqa: S610
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
    return qs.filter(Q(department_id__in=audited) | Q(provider_id__in=audited))
