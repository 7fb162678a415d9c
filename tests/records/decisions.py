"""AccessDecision values built by hand, for testing the query builder apart from the policy."""

from __future__ import annotations

from dataclasses import dataclass

try:  # the real classes once the sharing helper's policy module has landed
    from apps.sharing.policy import AccessDecision, FieldAccess
except ImportError:  # pragma: no cover - until then, the contract's shape

    @dataclass(frozen=True)
    class FieldAccess:  # type: ignore[no-redef]
        name: str
        mask: str
        grant_ids: tuple[int, ...] = ()

        @property
        def clear(self) -> bool:
            return self.mask == "none"

    @dataclass(frozen=True)
    class AccessDecision:  # type: ignore[no-redef]
        dataset_id: int
        department_id: int
        is_owner: bool
        fields: dict
        row_filters: tuple = ()

        def readable(self, name: str) -> bool:
            return name in self.fields

        def clear(self, name: str) -> bool:
            return name in self.fields and self.fields[name].clear

        @property
        def grant_ids(self) -> tuple[int, ...]:
            return tuple(sorted({g for f in self.fields.values() for g in f.grant_ids}))


def decision(dataset, department, masks: dict[str, str], *, owner=False, row_filters=()):
    fields = {
        n: FieldAccess(name=n, mask=m, grant_ids=() if owner else (1,)) for n, m in masks.items()
    }
    return AccessDecision(
        dataset_id=dataset.pk,
        department_id=department.pk,
        is_owner=owner,
        fields=fields,
        row_filters=tuple(row_filters),
    )
