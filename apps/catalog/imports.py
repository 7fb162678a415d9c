"""Importing a responsibility list file: all of it, or nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext, gettext_noop

from apps.catalog import permissions as perms
from apps.catalog import services
from apps.catalog.labels import file_vocabulary
from apps.catalog.models import Dataset, Field
from apps.catalog.versioning import DATASET_ATTRIBUTES, FIELD_ATTRIBUTES
from apps.departments.models import Department
from govdata.responsibility_list import (
    DATASET_SHEETS,
    FIELD_SHEETS,
    DatasetSpec,
    ListError,
    ResponsibilityListError,
    parse_file,
)

MAX_IMPORT_BYTES = 20 * 1024 * 1024
_DATASET_KEYS = DATASET_ATTRIBUTES
_FIELD_KEYS = FIELD_ATTRIBUTES


@dataclass
class ImportResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    published: list[str] = field(default_factory=list)


def error_message(error: ListError) -> str:
    """The error in the user's language (govdata only marks the templates)."""
    template = gettext(error.template)
    return template % error.params if error.params else template


def _read(file: bytes | IO[bytes]) -> bytes:
    data = file if isinstance(file, bytes) else file.read(MAX_IMPORT_BYTES + 1)
    if len(data) > MAX_IMPORT_BYTES:
        raise ResponsibilityListError(
            [ListError("", None, "", gettext_noop("The file is larger than %(n)s MB."), {"n": 20})]
        )
    return data


def _validation_errors(exc: ValidationError, sheet: str, row: int | None) -> list[ListError]:
    if hasattr(exc, "error_dict"):
        return [
            ListError(sheet, row, key if key != "__all__" else "", "%(m)s", {"m": message})
            for key, messages in exc.message_dict.items()
            for message in messages
        ]
    return [ListError(sheet, row, "", "%(m)s", {"m": m}) for m in exc.messages]


def _positions(names: list[str], current: dict[str, Field]) -> dict[str, int]:
    """A file gives the fields' order, not their numbers (the admin may have stored several
    at one position). While the file lists the stored fields in their stored order, as an
    export does, their positions are kept; otherwise the fields are numbered by row."""
    stored = sorted(
        (f for f in current.values() if not f.pending_removal), key=lambda f: (f.position, f.name)
    )
    if names == [f.name for f in stored]:
        return {f.name: f.position for f in stored}
    return {name: position for position, name in enumerate(names)}


def _store(spec: DatasetSpec, existing: Dataset | None, department: Department, by) -> str:
    """Creates or updates one dataset and its fields; returns what happened."""
    attrs = {key: getattr(spec, key) for key in _DATASET_KEYS}
    if existing is None:
        dataset = services.dataset_create(by=by, provider=department, code=spec.code, **attrs)
        outcome = "created"
    else:
        dataset = existing
        changed = services.attributes_changed(instance=dataset, values=attrs)
        if changed:
            services.dataset_update(dataset=dataset, by=by, check_fields=False, **changed)
        outcome = "updated" if changed else "unchanged"
    current = {f.name: f for f in dataset.fields.all()}
    positions = _positions([item.name for item in spec.fields], current)
    for item in spec.fields:
        values = {key: getattr(item, key) for key in _FIELD_KEYS if key != "position"}
        values["position"] = positions[item.name]
        try:
            stored = current.pop(item.name, None)
            if stored is None:
                services.field_create(dataset=dataset, by=by, name=item.name, **values)
                outcome = "updated" if outcome == "unchanged" else outcome
                continue
            stored.dataset = dataset  # checked against the new dataset type
            changed = services.attributes_changed(instance=stored, values=values)
            if changed or stored.pending_removal:
                services.field_update(field=stored, by=by, **changed)
                outcome = "updated" if outcome == "unchanged" else outcome
        except ValidationError as exc:
            raise _RowError(_validation_errors(exc, FIELD_SHEETS[0], item.row)) from exc
    for stale in current.values():
        if not stale.pending_removal:
            stale.dataset = dataset
            services.field_remove(field=stale, by=by)
            outcome = "updated" if outcome == "unchanged" else outcome
    dataset.refresh_from_db()
    services.dataset_check(dataset=dataset)
    return outcome


def _publish(code: str, by, reason: str) -> bool:
    """Publishes, unless the edits came back to the published version (nothing to publish)."""
    try:
        services.dataset_publish(dataset=Dataset.objects.get(code=code), by=by, reason=reason)
    except ValidationError as exc:
        if getattr(exc, "code", None) == "unchanged":
            Dataset.objects.filter(code=code).update(has_unpublished_changes=False)
            return False
        raise
    return True


class _RowError(Exception):
    def __init__(self, errors: list[ListError]):
        self.errors = errors


def catalog_import(
    *,
    department: Department,
    file: bytes | IO[bytes],
    filename: str,
    by: AbstractBaseUser,
    reason: str = "",
    publish: bool = False,
) -> ImportResult:
    """Raises ResponsibilityListError listing every bad row; then nothing stored has changed.
    A code already held by another department is refused."""
    perms.require_create_dataset(by, department)
    if publish and not reason.strip():
        raise ResponsibilityListError(
            [ListError("", None, "", gettext_noop("Say why this list is published."))]
        )
    # The forms' labels in every language, as the export writes them (apps.catalog.labels).
    specs = parse_file(_read(file), filename, file_vocabulary())
    result = ImportResult()
    errors: list[ListError] = []
    with transaction.atomic():
        existing = {
            d.code: d
            for d in Dataset.objects.select_for_update()
            .select_related("provider")
            .filter(code__in=[s.code for s in specs])
        }
        for spec in specs:
            held = existing.get(spec.code)
            if held is not None and held.provider_id != department.pk:
                errors.append(
                    ListError(
                        DATASET_SHEETS[0],
                        spec.row,
                        "A",
                        gettext_noop("The code %(code)s belongs to %(dept)s."),
                        {"code": spec.code, "dept": str(held.provider)},
                    )  # fmt: skip
                )
                continue
            try:
                with transaction.atomic():
                    outcome = _store(spec, held, department, by)
                    if publish and outcome != "unchanged" and _publish(spec.code, by, reason):
                        result.published.append(spec.code)
            except _RowError as exc:
                errors.extend(exc.errors)
                continue
            except ValidationError as exc:
                errors.extend(_validation_errors(exc, DATASET_SHEETS[0], spec.row))
                continue
            except PermissionDenied as exc:
                errors.append(ListError(DATASET_SHEETS[0], spec.row, "A", "%(m)s", {"m": str(exc)}))
                continue
            getattr(result, outcome).append(spec.code)
        if errors:
            # Leaving the atomic block by an exception rolls back every dataset stored above.
            raise ResponsibilityListError(errors)
    return result


def import_summary(result: ImportResult) -> dict[str, Any]:
    return {key: list(value) for key, value in result.__dict__.items()}
