"""AccessDecision values built by hand, for testing the query builder apart from the policy."""

from __future__ import annotations

from apps.sharing.policy import AccessDecision, FieldAccess


def decision(
    dataset,
    department,
    masks: dict[str, str],
    *,
    owner=False,
    row_filters=(),
    rows: dict[str, tuple] | None = None,
):
    """Every field of `masks` readable with its mask; with `row_filters`, each only on the rows
    matching one of them (as if given by grants with those filters); `rows` sets a field's rows
    by name instead (a field absent from it: every row)."""
    per_field = rows if rows is not None else dict.fromkeys(masks, tuple(row_filters) or None)
    fields = {
        n: FieldAccess(name=n, mask=m, grant_ids=() if owner else (1,), rows=per_field.get(n))
        for n, m in masks.items()
    }
    return AccessDecision(
        dataset_id=dataset.pk, department_id=department.pk, is_owner=owner, fields=fields
    )
