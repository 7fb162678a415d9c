"""Row filters on grants, in the API's lookup syntax: ``{"district": "天河区"}``,
``{"district__in": ["天河区", "越秀区"]}``, ``__gte``, ``__lte``, ``__contains``."""

from __future__ import annotations

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

LOOKUPS = frozenset({"in", "gte", "lte", "contains"})
_SCALARS = (str, int, float, bool)


def row_filter_validate(*, row_filter: dict | None, dataset, clear: Collection[str]) -> dict | None:
    """Returns the filter (None when empty) or raises naming every bad key.

    A filter may only use fields in `clear`, those the department will read in clear: the
    grant holder sees which rows it gets, so a filter on any other field would tell it that
    field's value on every row (``{"religion": "x"}`` on a grant of ``mobile`` only)."""
    if not row_filter:
        return None
    if not isinstance(row_filter, dict):
        raise ValidationError({"row_filter": _("A row filter is an object of field lookups.")})
    types = dict(dataset.fields.values_list("name", "data_type"))
    names = set(types)
    errors = []
    for key, value in row_filter.items():
        name, _sep, lookup = str(key).partition("__")
        if name not in names:
            errors.append(
                _("%(key)s: %(dataset)s has no field %(name)s.")
                % {"key": key, "dataset": dataset.code, "name": name}
            )
        elif name not in clear:
            errors.append(
                _(
                    "%(key)s: a row filter may only use fields the department reads in clear "
                    "(shared unconditionally without a mask, or granted here without one); "
                    "%(name)s is not, and the filter would reveal its values."
                )
                % {"key": key, "name": name}
            )
        elif lookup and lookup not in LOOKUPS:
            errors.append(
                _("%(key)s: unknown lookup %(lookup)s (use in, gte, lte, contains).")
                % {"key": key, "lookup": lookup}
            )
        elif lookup == "in":
            if (
                not isinstance(value, list)
                or not value
                or not all(isinstance(v, _SCALARS) for v in value)
            ):
                errors.append(_("%(key)s: give a non-empty list of values.") % {"key": key})
            elif problem := _value_problem(name, lookup, value, types[name]):
                errors.append(f"{key}: {problem}")
        elif not isinstance(value, _SCALARS):
            errors.append(_("%(key)s: give a single value.") % {"key": key})
        elif problem := _value_problem(name, lookup, value, types[name]):
            errors.append(f"{key}: {problem}")
    if errors:
        raise ValidationError({"row_filter": errors})
    return dict(row_filter)


def _value_problem(name: str, lookup: str, value, data_type: str) -> str:
    """Why `value` cannot be compared with the field (else ""): checked when the grant is made,
    so that reads through it never fail on the provider's filter (a 400 naming a field the
    consumer never sent) nor silently match nothing (true for a text field)."""
    from apps.records.query_values import TEXT_TYPES, QueryInvalid, lookup_condition

    values = value if isinstance(value, list) else [value]
    if data_type in TEXT_TYPES and not all(isinstance(v, str) for v in values):
        return _("%(name)s holds text: give the value as text.") % {"name": name}
    try:
        lookup_condition(name, lookup or "exact", value, data_type)
    except QueryInvalid as exc:
        return exc.message
    return ""


_OPERATORS = {"in": "∈", "gte": "≥", "lte": "≤", "contains": "∋"}


def rows_label(rows: tuple[dict, ...]) -> str:
    """The rows a field is readable on, as the grants' row filters say: `district = 天河区`,
    alternatives joined by "or"."""
    alternatives = []
    for row_filter in rows:
        parts = []
        for key, value in row_filter.items():
            name, _sep, lookup = str(key).rpartition("__")
            if lookup not in _OPERATORS:
                name, lookup = str(key), ""
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{name} {_OPERATORS.get(lookup, '=')} {shown}")
        alternatives.append(" ∧ ".join(parts))
    return _(" or ").join(alternatives)
