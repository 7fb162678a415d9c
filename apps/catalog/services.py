"""Writes to the responsibility list: drafts of datasets and fields, publication, demands.

Edits change the working copy; `dataset_publish` validates it, snapshots it as a new version with
who, when and why, copies each field's sharing type and mask to the published attributes that
the sharing policy reads (so no draft edit reaches consumers before it is published), and ends or
narrows grants on fields that became stricter or were removed.
Every function checks the caller's rights through apps.catalog.permissions.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils.text import Truncator, normalize_newlines
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from apps.catalog import permissions as perms
from apps.catalog.models import (
    Dataset,
    DatasetGroupObjectPermission,
    DatasetVersion,
    Demand,
    DemandGroupObjectPermission,
    Field,
)
from apps.catalog.versioning import (
    DATASET_ATTRIBUTES,
    FIELD_ATTRIBUTES,
    fields_made_stricter,
    snapshot_diff,
    snapshot_of,
)
from apps.common import clock
from apps.common.texts import Text
from apps.departments.models import Department


def _grant_group_perms(model, group: Group, obj, codenames: tuple[str, ...]) -> None:
    """Direct-FK guardian rows in one insert (guardian's assign_perm does a query per codename)."""
    found = Permission.objects.filter(content_type__app_label="catalog", codename__in=codenames)
    model.objects.bulk_create(
        [model(group=group, permission=p, content_object=obj) for p in found],
        ignore_conflicts=True,
    )


def dataset_provider_permissions_grant(*, dataset: Dataset) -> None:
    """Gives the provider's acting group its object permissions on `dataset`. dataset_create
    does this; datasets stored otherwise (fixtures, factories) need this call. Idempotent."""
    _grant_group_perms(
        DatasetGroupObjectPermission, dataset.provider.group, dataset, perms.DATASET_PERMS
    )


def _reject_unknown(changes: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise ValidationError(_("Unknown attributes: %(names)s.") % {"names": ", ".join(unknown)})


def _normalised(value: Any) -> Any:
    # A browser sends a textarea's line breaks as CRLF and a workbook gives them back as LF:
    # stored as LF, text that only travelled through an export does not count as changed.
    return normalize_newlines(value) if isinstance(value, str) else value


def attributes_changed(*, instance: models.Model, values: dict[str, Any]) -> dict[str, Any]:
    """`values` (normalised) that differ from the stored row. Compared with the database, not
    with `instance`, which an admin form has already set to the submitted values."""
    values = {key: _normalised(value) for key, value in values.items()}
    if instance.pk is None or not values:
        return values
    stored = type(instance).objects.filter(pk=instance.pk).values(*values).first() or {}
    return {k: v for k, v in values.items() if _normalised(stored.get(k)) != v}


def _mark_changed(dataset: Dataset) -> None:
    if dataset.version and not dataset.has_unpublished_changes:
        dataset.has_unpublished_changes = True
        dataset.save(update_fields=["has_unpublished_changes", "updated_at"])


@transaction.atomic
def dataset_create(
    *,
    by: AbstractBaseUser,
    provider: Department,
    code: str,
    name: str,
    key_field: str,
    sharing_type: str,
    legal_basis: str = "",
    **attributes: Any,
) -> Dataset:
    perms.require_create_dataset(by, provider)
    _reject_unknown(attributes, DATASET_ATTRIBUTES)
    attributes = {key: _normalised(value) for key, value in attributes.items()}
    dataset = Dataset(
        provider=provider,
        code=code,
        name=_normalised(name),
        key_field=key_field,
        sharing_type=sharing_type,
        legal_basis=_normalised(legal_basis),
        status=Dataset.Status.DRAFT,
        **attributes,
    )
    dataset.full_clean()
    dataset.save()
    dataset_provider_permissions_grant(dataset=dataset)
    return dataset


@transaction.atomic
def dataset_update(
    *, dataset: Dataset, by: AbstractBaseUser, check_fields: bool = True, **changes: Any
) -> Dataset:
    """`check_fields=False` lets a caller that saves the fields next (the admin, the import)
    check their agreement once, with `dataset_check`, after both are saved. Values equal to the
    stored ones change nothing: not the dataset, nor its "unpublished changes" mark."""
    perms.require_dataset_perm(by, "change_dataset", dataset)
    _reject_unknown(changes, DATASET_ATTRIBUTES)
    changes = {name: _normalised(value) for name, value in changes.items()}
    for name, value in changes.items():
        setattr(dataset, name, value)
    if not attributes_changed(instance=dataset, values=changes):
        return dataset
    if dataset.version:
        dataset.has_unpublished_changes = True
    dataset.defer_fields_check = not check_fields
    try:
        dataset.full_clean()
    finally:
        dataset.defer_fields_check = False
    dataset.save()
    return dataset


def dataset_check(*, dataset: Dataset) -> None:
    """Raises ValidationError unless the stored dataset and its fields are publishable."""
    dataset.full_clean()
    fields = [f for f in dataset.fields.all() if not f.pending_removal]
    if not fields:
        raise ValidationError(_("A dataset needs at least one field."))
    for field in fields:
        field.dataset = dataset
        try:
            field.full_clean()
        except ValidationError as exc:
            raise ValidationError(
                {f"{field.name}.{k}": v for k, v in exc.message_dict.items()}
            ) from exc


@transaction.atomic
def field_create(*, dataset: Dataset, by: AbstractBaseUser, name: str, **attrs: Any) -> Field:
    perms.require_dataset_perm(by, "change_dataset", dataset)
    _reject_unknown(attrs, FIELD_ATTRIBUTES)
    attrs = {key: _normalised(value) for key, value in attrs.items()}
    if attrs.get("position") is None:  # after the last field
        last = dataset.fields.aggregate(last=Max("position"))["last"]
        attrs["position"] = 0 if last is None else last + 1
    field = Field(dataset=dataset, name=name, **attrs)
    field.full_clean()  # against the dataset's sharing type as it is in memory, i.e. the new one
    field.save()
    _mark_changed(dataset)
    return field


@transaction.atomic
def field_update(*, field: Field, by: AbstractBaseUser, **changes: Any) -> Field:
    """Also takes back a pending removal. Values equal to the stored ones change nothing."""
    perms.require_dataset_perm(by, "change_dataset", field.dataset)
    _reject_unknown(changes, FIELD_ATTRIBUTES)
    changes = {name: _normalised(value) for name, value in changes.items()}
    for name, value in changes.items():
        setattr(field, name, value)
    revived = Field.objects.filter(pk=field.pk, pending_removal=True).exists()
    if not revived and not attributes_changed(instance=field, values=changes):
        return field
    field.pending_removal = False
    field.full_clean()  # against the dataset's sharing type as it is in memory, i.e. the new one
    field.save()
    _mark_changed(field.dataset)
    return field


@transaction.atomic
def field_remove(*, field: Field, by: AbstractBaseUser) -> None:
    """A field never published is deleted; a published one goes at the next publication."""
    dataset = field.dataset
    perms.require_dataset_perm(by, "change_dataset", dataset)
    if field.name == dataset.key_field:
        raise ValidationError(
            _("The key field %(name)s cannot be removed; choose another key field first.")
            % {"name": field.name}
        )
    if field.published_sharing_type is not None:
        field.pending_removal = True
        field.save(update_fields=["pending_removal"])
        _mark_changed(dataset)
    else:
        field.delete()


def _publish_field_attributes(fields: list[Field]) -> None:
    """What consumers are held to from now on (apps.sharing.policy reads only these). Taken
    from the objects just snapshotted, not re-read, so the version and the rights agree."""
    for field in fields:
        field.published_sharing_type = field.sharing_type
        field.published_masking = field.masking
    Field.objects.bulk_update(
        fields, ["published_sharing_type", "published_masking"], batch_size=500
    )


@transaction.atomic
def dataset_publish(*, dataset: Dataset, by: AbstractBaseUser, reason: str) -> DatasetVersion:
    perms.require_dataset_perm(by, "publish_dataset", dataset)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why this version is published.")})
    dataset = Dataset.objects.select_for_update().select_related("provider").get(pk=dataset.pk)
    dataset_check(dataset=dataset)
    fields = list(dataset.fields.all())
    kept = [f for f in fields if not f.pending_removal]
    previous = dataset.versions.order_by("-version").first()
    snapshot = snapshot_of(dataset, kept)
    changes = snapshot_diff(previous.snapshot if previous else None, snapshot)
    if previous is not None and not changes:
        raise ValidationError(
            _("Nothing changed since version %(v)s.") % {"v": previous.version}, code="unchanged"
        )
    now = clock.now()
    version = DatasetVersion.objects.create(
        dataset=dataset,
        version=dataset.version + 1,
        snapshot=snapshot,
        changes=changes,
        reason=reason.strip(),
        published_by=by,
        published_at=now,
    )
    affected = 0
    # Compared with what consumers were held to (the fields' published attributes), which also
    # covers a dataset published without a recorded version (fixtures).
    promised = {
        "fields": [
            {"name": f.name, "sharing_type": f.published_sharing_type}
            for f in fields
            if f.published_sharing_type is not None
        ]
    }
    if promised["fields"]:
        from apps.sharing.services import grants_apply_field_change

        by_name = {f.name: f for f in fields}
        for name, old_type, new_type in fields_made_stricter(promised, snapshot):
            affected += grants_apply_field_change(
                field=by_name[name],
                previous_sharing_type=old_type,
                new_sharing_type=new_type,
                by=by,
                reason=reason.strip(),
            )
    _publish_field_attributes(kept)
    Field.objects.filter(dataset=dataset, pending_removal=True).delete()
    if promised["fields"]:
        from apps.sharing.services import grants_end_untrusted_filters

        affected += grants_end_untrusted_filters(dataset=dataset, by=by, reason=reason.strip())
    dataset.version = version.version
    dataset.status = Dataset.Status.PUBLISHED
    dataset.published_at = now
    dataset.has_unpublished_changes = False
    dataset.save(
        update_fields=["version", "status", "published_at", "has_unpublished_changes", "updated_at"]
    )
    # A published dataset has a record store from the start: reads of one never synchronised
    # answer with no records, not with an error about a missing table.
    from apps.records.store import store_ensure_table

    store_ensure_table(dataset)
    from apps.audit.services import audit_record_admin

    audit_record_admin(
        action="catalog.publish",
        actor=by,
        department=dataset.provider,
        dataset=dataset,
        target=dataset.code,
        details={
            "version": version.version,
            "reason": version.reason,
            "changes": changes,
            "grants_affected": affected,
        },
    )
    return version


def demand_link(demand: Demand) -> str:
    return reverse("admin:catalog_demand_change", args=[demand.pk])


# A notification's subject holds 200 characters and a title may take 200 by itself: the
# subject names it shortened, the body carries it whole.
SUBJECT_TITLE_CHARS = 40


def _subject_title(title: str) -> str:
    return Truncator(title).chars(SUBJECT_TITLE_CHARS)


def _audit_demand(*, action: str, demand: Demand, by: AbstractBaseUser, details: dict) -> None:
    from apps.audit.services import audit_record_admin

    # Recorded like a data request's decisions: the asked department as provider, the
    # requesting one as consumer, so that the auditors' searches by either find it.
    audit_record_admin(
        action=action,
        actor=by,
        department=demand.provider,
        consumer=demand.requester,
        dataset=demand.dataset,
        target=f"demand:{demand.pk}",
        details={"title": demand.title, **details},
    )


@transaction.atomic
def demand_create(
    *,
    by: AbstractBaseUser,
    requester: Department,
    provider: Department,
    title: str,
    description: str,
    dataset: Dataset | None = None,
    fields_wanted: str = "",
    legal_basis: str = "",
) -> Demand:
    """Files a demand and tells the asked department's officers (a notification, and the
    demand on their to-do list until it is answered: apps.catalog.worklist)."""
    perms.require_create_demand(by, requester)
    if dataset is not None and dataset.provider_id != provider.pk:
        raise ValidationError({"dataset": _("The dataset is not held by the asked department.")})
    if requester.pk == provider.pk:
        raise ValidationError({"provider": _("A department cannot file a demand to itself.")})
    demand = Demand(
        requester=requester,
        provider=provider,
        dataset=dataset,
        title=title,
        description=description,
        fields_wanted=fields_wanted,
        legal_basis=legal_basis,
        created_by=by,
    )
    demand.full_clean()
    demand.save()
    model = DemandGroupObjectPermission
    _grant_group_perms(model, provider.group, demand, perms.DEMAND_PROVIDER_PERMS)
    _grant_group_perms(model, requester.group, demand, perms.DEMAND_REQUESTER_PERMS)
    _audit_demand(
        action="demand.submit",
        demand=demand,
        by=by,
        details={"description": description, "legal_basis": legal_basis},
    )
    from apps.sharing.notifications import department_officers, notify

    notify(
        recipients=department_officers(department=provider),
        subject=Text(
            gettext_noop("New demand #%(id)s from %(requester)s: %(title)s"),
            {"id": demand.pk, "requester": requester.name, "title": _subject_title(title)},
        ),
        body=Text(
            gettext_noop(
                "%(requester)s asks your department for data it cannot get yet: %(title)s. "
                "%(description)s Answer it in the demand list."
            ),
            {"requester": requester.name, "title": title, "description": description},
        ),
        link=demand_link(demand),
    )
    return demand


class DemandClosed(ValidationError):
    """A closed demand is settled for good: it is neither answered again nor reopened (a need
    that remains is filed as a new demand, which the asked department sees as new work)."""


@transaction.atomic
def demand_answer(
    *, demand: Demand, by: AbstractBaseUser, answer: str, close: bool = False
) -> Demand:
    """The asked department answers (again, while the demand is not closed); `close` also
    settles it. The requesting department's officers are told either way."""
    perms.require_demand_perm(by, "change_demand", demand)
    answer = normalize_newlines((answer or "").strip())
    if not answer:
        raise ValidationError({"answer": _("The answer cannot be empty.")})
    # Locked: of two officers answering at once, the second sees the first one's closing.
    locked = (
        Demand.objects.select_for_update(of=("self",))
        .select_related("requester", "provider", "dataset")
        .get(pk=demand.pk)
    )
    if locked.status == Demand.Status.CLOSED:
        raise DemandClosed(
            _("The demand “%(title)s” is closed; it can no longer be answered or reopened.")
            % {"title": locked.title},
            code="closed",
        )
    previous = locked.status
    locked.answer = answer
    locked.status = Demand.Status.CLOSED if close else Demand.Status.ANSWERED
    locked.answered_by = by
    locked.answered_at = clock.now()
    locked.save(update_fields=["answer", "status", "answered_by", "answered_at"])
    _audit_demand(
        action="demand.close" if close else "demand.answer",
        demand=locked,
        by=by,
        details={"answer": answer, "previous_status": previous},
    )
    from apps.sharing.notifications import department_officers, notify

    if close:
        subject = gettext_noop("Demand #%(id)s answered and closed: %(title)s")
        body = gettext_noop("%(provider)s answered and closed your demand “%(title)s”: %(answer)s")
    else:
        subject = gettext_noop("Demand #%(id)s answered: %(title)s")
        body = gettext_noop("%(provider)s answered your demand “%(title)s”: %(answer)s")
    params = {"provider": locked.provider.name, "title": locked.title, "answer": answer}
    notify(
        recipients=department_officers(department=locked.requester),
        subject=Text(subject, {"id": locked.pk, "title": _subject_title(locked.title)}),
        body=Text(body, params),
        link=demand_link(locked),
    )
    return locked


def catalog_import(**kwargs: Any):
    """See apps.catalog.imports.catalog_import (kept there to keep this module short)."""
    from apps.catalog.imports import catalog_import as _import

    return _import(**kwargs)
