"""Template filter of the auditors' console: a recorded enumerated value with its human label
(apps.audit.labels), the recorded value always shown too."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html

from apps.audit import labels

register = template.Library()


@register.filter
def audit_value(value: Any, key: str) -> Any:
    """`Label <code>value</code>` for an enumerated value with a label; any other value is
    returned untouched, so the template renders it exactly as before."""
    label = labels.value_label(key, value)
    if label is None:
        return value
    return format_html('{} <code class="quiet">{}</code>', label, value)
