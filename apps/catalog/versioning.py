"""Snapshots of a published dataset entry and the differences between two of them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from govdata.vocabulary import SHARING_STRICTNESS

# The attributes an officer edits on a dataset; a snapshot adds the code.
DATASET_ATTRIBUTES = (
    "name",
    "summary",
    "category",
    "key_field",
    "update_frequency",
    "sharing_type",
    "conditions",
    "legal_basis",
)
SNAPSHOT_DATASET_KEYS = ("code", *DATASET_ATTRIBUTES)
# The attributes an officer edits on a field; a snapshot adds the name.
FIELD_ATTRIBUTES = (
    "label",
    "data_type",
    "sensitivity",
    "sharing_type",
    "conditions",
    "legal_basis",
    "masking",
    "required",
    "enum_values",
    "description",
    "position",
)
SNAPSHOT_FIELD_KEYS = ("name", *FIELD_ATTRIBUTES)


def snapshot_of(dataset, fields: Iterable) -> dict[str, Any]:
    data: dict[str, Any] = {key: getattr(dataset, key) for key in SNAPSHOT_DATASET_KEYS}
    data["provider"] = dataset.provider.code
    data["fields"] = [
        {key: getattr(field, key) for key in SNAPSHOT_FIELD_KEYS}
        for field in sorted(fields, key=lambda f: (f.position, f.name))
    ]
    return data


def snapshot_diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """A list of changes: {"target": "dataset" | "field", "name", "change": "added" | "removed"
    | "changed", "attribute", "from", "to"}. The first version is one "added" entry."""
    if before is None:
        return [{"target": "dataset", "name": after["code"], "change": "added"}]
    changes: list[dict[str, Any]] = []
    for key in (*SNAPSHOT_DATASET_KEYS, "provider"):
        if before.get(key) != after.get(key):
            changes.append(
                {
                    "target": "dataset",
                    "name": after["code"],
                    "change": "changed",
                    "attribute": key,
                    "from": before.get(key),
                    "to": after.get(key),
                }
            )
    old = {f["name"]: f for f in before.get("fields", [])}
    new = {f["name"]: f for f in after.get("fields", [])}
    for name in old.keys() - new.keys():
        changes.append({"target": "field", "name": name, "change": "removed"})
    for name in new.keys() - old.keys():
        changes.append({"target": "field", "name": name, "change": "added"})
    for name in old.keys() & new.keys():
        for key in SNAPSHOT_FIELD_KEYS:
            if old[name].get(key) != new[name].get(key):
                changes.append(
                    {
                        "target": "field",
                        "name": name,
                        "change": "changed",
                        "attribute": key,
                        "from": old[name].get(key),
                        "to": new[name].get(key),
                    }
                )
    changes.sort(key=lambda c: (c["target"] != "dataset", c["name"], c.get("attribute", "")))
    return changes


def fields_made_stricter(
    before: dict[str, Any], after: dict[str, Any]
) -> Iterator[tuple[str, str, str | None]]:
    """(name, previous sharing type, new sharing type or None when removed) for every field
    that was published before and is now stricter (unconditional → conditional → none) or gone."""
    new = {f["name"]: f for f in after.get("fields", [])}
    for field in before.get("fields", []):
        name, old_type = field["name"], field["sharing_type"]
        if name not in new:
            yield name, old_type, None
            continue
        new_type = new[name]["sharing_type"]
        if SHARING_STRICTNESS.get(new_type, 99) > SHARING_STRICTNESS.get(old_type, 99):
            yield name, old_type, new_type
