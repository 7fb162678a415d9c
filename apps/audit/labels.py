"""Human labels for what the auditors' console shows of an event: the body's keys and the
enumerated values of `kind`, `action` and `outcome`. Defined here once; the console shows each
label next to the recorded key or value, never instead of it (auditors match them with the
NDJSON and CSV exports). Keys and values without a label here are shown as recorded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from django.utils.translation import gettext_lazy as _

from apps.audit.models import AuditEvent

# Every key of apps.audit.models.BODY_KEYS, in the order the detail page lists them.
KEY_LABELS: dict[str, Any] = {
    "kind": _("Kind"),
    "action": _("Action"),
    "outcome": _("Outcome"),
    "reason": _("Reason"),
    "request_id": _("Request ID"),
    "user_id": _("User ID"),
    "username": _("User name"),
    "application_id": _("Application ID"),
    "application_name": _("Application"),
    "consumer_id": _("Consumer department ID"),
    "consumer_code": _("Consumer department code"),
    "provider_id": _("Provider department ID"),
    "provider_code": _("Provider department code"),
    "dataset_id": _("Dataset ID"),
    "dataset_code": _("Dataset code"),
    "fields": _("Fields returned (masking)"),
    "row_count": _("Rows returned"),
    "filters": _("Filters"),
    "purpose": _("Purpose"),
    "case_id": _("Case ID"),
    "end_user": _("End user"),
    "grant_ids": _("Grants relied on"),
    "client_ip": _("Client IP address"),
    "duration_ms": _("Duration (ms)"),
    "target": _("Target"),
    "details": _("Details"),
}

# apps.audit.services.ACCESS_ACTIONS, then the administrative decisions recorded by the apps.
ACTION_LABELS: dict[str, Any] = {
    "list": _("Record list"),
    "lookup": _("Single-record lookup"),
    "export": _("Bulk export"),
    "catalog.publish": _("Catalogue published"),
    "application.create": _("Agency application created"),
    "application.rotate_secret": _("Application secret rotated"),
    "membership.add": _("Role granted"),
    "membership.remove": _("Role removed"),
    "request.approve": _("Request approved"),
    "request.reject": _("Request rejected"),
    "request.withdraw": _("Request withdrawn"),
    "request.escalate": _("Overdue request escalated"),
    "grant.narrow": _("Grant narrowed"),
    "grant.revoke": _("Grant revoked"),
    "grant.expire": _("Grant expired"),
}

# The models' choices are reused as they are.
VALUE_LABELS: dict[str, Mapping[str, Any]] = {
    "kind": dict(AuditEvent.Kind.choices),
    "outcome": dict(AuditEvent.Outcome.choices),
    "action": ACTION_LABELS,
}


class BodyItem(NamedTuple):
    key: str
    label: Any | None  # None for a key without a label (shown as recorded)
    value: Any  # exactly as recorded


def key_label(key: str) -> Any:
    """The human label of a body key; the key itself for keys not known here."""
    return KEY_LABELS.get(key, key)


def value_label(key: str, value: Any) -> Any | None:
    """The human label of a recorded enumerated value (`kind`, `action`, `outcome`), or None
    when the value has none (other keys, empty or unknown values)."""
    labels = VALUE_LABELS.get(key)
    if labels is None or not isinstance(value, str):
        return None
    return labels.get(value)


def body_items(data: Mapping[str, Any]) -> list[BodyItem]:
    """Every key of an event body with its label and recorded value: the known keys in the
    order of KEY_LABELS, then any other key (a field added later), sorted."""
    known = [k for k in KEY_LABELS if k in data]
    others = sorted(k for k in data if k not in KEY_LABELS)
    return [BodyItem(k, KEY_LABELS.get(k), data[k]) for k in known + others]


def labelled_series(series: Mapping[str, Any], *, key: str) -> dict[str, Any]:
    """A chart's series keyed by recorded values of `key`, named "label (recorded value)":
    the recorded value stays in the legend (as everywhere in the console), and two values
    can never merge into one series."""
    named = {}
    for name, values in series.items():
        label = value_label(key, name)
        named[f"{label} ({name})" if label else str(name)] = values
    return named
