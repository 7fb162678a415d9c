"""Template filters and tags of the auditors' console: recorded values with their human labels
(apps.audit.labels), the recorded value always shown too; structured values (fields, filters,
details) as lists and small tables rather than Python literals; nothing recorded as "—"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from apps.audit import labels

register = template.Library()

EMPTY = "—"


@register.filter
def audit_value(value: Any, key: str) -> Any:
    """`Label <code>value</code>` for an enumerated value with a label; any other value is
    returned untouched, so the template renders it exactly as before."""
    label = labels.value_label(key, value)
    if label is None:
        return value
    return format_html('{} <code class="quiet">{}</code>', label, value)


@register.filter
def audit_reason(value: Any) -> Any:
    """A recorded reason in the reader's language (apps.audit.labels.reason_label); a reason
    of the platform's own that is not known there, and people's own words, as recorded."""
    return labels.reason_label(value) or value


@register.simple_tag
def audit_body_value(item: labels.BodyItem, field_labels: Mapping[str, str]) -> str:
    """One value of an event body, for the detail page. `field_labels` maps the names of the
    dataset's fields to their labels (apps.audit.selectors.event_field_labels)."""
    key, value = item.key, item.value
    if labels.is_empty(value):
        return EMPTY
    if key in labels.VALUE_LABELS:
        return format_html("{}", audit_value(value, key))
    if key == "reason":
        return _reason(value)
    if key == "fields" and isinstance(value, dict):
        return _masks(value, field_labels)
    if key == "filters" and isinstance(value, dict):
        return _table(
            (k, labels.filter_key_label(k, field_labels), _plain(v)) for k, v in value.items()
        )
    if key == "details" and isinstance(value, dict):
        return _table(
            (k, labels.DETAIL_LABELS.get(k), _detail(k, v, field_labels)) for k, v in value.items()
        )
    return _plain(value)


def _reason(value: Any) -> SafeString:
    label = labels.reason_label(value)
    if label is None or label == value:
        return format_html("{}", value)
    return format_html('{} <code class="quiet">{}</code>', label, value)


def _masks(value: Mapping[str, Any], field_labels: Mapping[str, str]) -> SafeString:
    """`field → mask` per returned field: the recorded name and rule, with their labels."""
    return format_html(
        '<ul class="audit-fields">{}</ul>',
        format_html_join(
            "",
            "<li>{} → {}</li>",
            ((_field(name, field_labels), _mask(rule)) for name, rule in value.items()),
        ),
    )


def _field(name: str, field_labels: Mapping[str, str]) -> SafeString:
    label = field_labels.get(name)
    if label is None:
        return format_html("<code>{}</code>", name)
    return format_html('{} <code class="quiet">{}</code>', label, name)


def _mask(rule: Any) -> SafeString:
    label = labels.mask_label(rule)
    if label is None:
        return format_html("<code>{}</code>", _text(rule))
    return format_html('{} <code class="quiet">{}</code>', label, rule)


def _table(rows) -> SafeString:
    """A small key/value table: the recorded key, with its label where there is one."""
    return format_html(
        '<table class="audit-kv">{}</table>',
        format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td></tr>",
            (
                (
                    format_html('{} <code class="quiet">{}</code>', label, key)
                    if label
                    else format_html("<code>{}</code>", key),
                    shown,
                )
                for key, label, shown in rows
            ),
        ),
    )


def _detail(key: str, value: Any, field_labels: Mapping[str, str]) -> str:
    """One value of an administrative event's `details`."""
    if labels.is_empty(value):
        return EMPTY
    if key == "reason":
        return _reason(value)
    if key == "masks" and isinstance(value, dict):
        return _masks(value, field_labels)
    if key == "fields" and isinstance(value, list):
        return format_html_join(", ", "{}", ((_field(str(n), field_labels),) for n in value))
    if key == "field" and isinstance(value, str):
        return _field(value, field_labels)
    if key == "row_filter" and isinstance(value, dict):
        return _table(
            (k, labels.filter_key_label(k, field_labels), _plain(v)) for k, v in value.items()
        )
    value_label = (
        labels.DETAIL_VALUE_LABELS.get(key, {}).get(value) if isinstance(value, str) else None
    )
    if value_label is not None:
        return format_html('{} <code class="quiet">{}</code>', value_label, value)
    return _plain(value)


def _plain(value: Any) -> str:
    """A scalar as text, a list of scalars comma-separated, anything nested as JSON."""
    if labels.is_empty(value):
        return EMPTY
    if isinstance(value, bool):
        return format_html("{}", _("Yes") if value else _("No"))
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return format_html("{}", ", ".join(_text(v) for v in value))
    if isinstance(value, dict | list):
        return format_html('<code class="audit-json">{}</code>', _text(value))
    return format_html("{}", value)


def _text(value: Any) -> str:
    """A value as the console writes it in text: strings as they are, the rest as JSON
    (non-ASCII kept)."""
    if isinstance(value, str):
        return value
    return orjson.dumps(value).decode()
