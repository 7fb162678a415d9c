"""Publication: validation, versions that keep who, when and why, and grants on fields that
became stricter."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from apps.audit.models import AuditEvent
from apps.catalog import services
from apps.catalog.models import Dataset, DatasetVersion, Field
from apps.catalog.selectors import dataset_version, dataset_versions
from tests.catalog.conftest import LEGAL

pytestmark = pytest.mark.django_db


def test_first_publication_snapshots_who_when_and_why(world, draft):
    moment = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    with time_machine.travel(moment, tick=False):
        version = services.dataset_publish(
            dataset=draft, by=world.provider_officer, reason="首次发布"
        )
    draft.refresh_from_db()
    assert (draft.status, draft.version, draft.published_at) == ("published", 1, moment)
    assert version.published_by == world.provider_officer
    assert version.published_at == moment and version.reason == "首次发布"
    assert [f["name"] for f in version.snapshot["fields"]] == ["id_number", "district"]
    assert version.snapshot["provider"] == "GA"
    assert version.changes == [{"target": "dataset", "name": draft.code, "change": "added"}]


def test_publication_is_recorded_in_the_audit_log(world, draft):
    services.dataset_publish(dataset=draft, by=world.provider_officer, reason="首次发布")
    event = AuditEvent.objects.get(action="catalog.publish")
    assert event.target == draft.code
    assert event.details["version"] == 1 and event.details["reason"] == "首次发布"


def test_previous_version_stays_readable_after_a_change(world, draft):
    officer = world.provider_officer
    services.dataset_publish(dataset=draft, by=officer, reason="首次发布")
    district = draft.fields.get(name="district")
    services.field_update(field=district, by=officer, label="户籍所在区县")
    services.dataset_publish(dataset=draft, by=officer, reason="更正中文名")
    first = dataset_version(dataset=draft, version=1)
    second = dataset_version(dataset=draft, version=2)
    assert first.snapshot["fields"][1]["label"] == "所属区县"
    assert second.snapshot["fields"][1]["label"] == "户籍所在区县"
    assert second.changes == [
        {"target": "field", "name": "district", "change": "changed", "attribute": "label",
         "from": "所属区县", "to": "户籍所在区县"}
    ]  # fmt: skip
    assert [v.version for v in dataset_versions(dataset=draft)] == [2, 1]


def test_publish_needs_a_reason(world, draft):
    with pytest.raises(ValidationError):
        services.dataset_publish(dataset=draft, by=world.provider_officer, reason=" ")
    assert not DatasetVersion.objects.exists()


def test_publishing_without_changes_is_refused(world, draft):
    services.dataset_publish(dataset=draft, by=world.provider_officer, reason="首次发布")
    with pytest.raises(ValidationError):
        services.dataset_publish(dataset=draft, by=world.provider_officer, reason="again")


def test_a_dataset_without_fields_cannot_be_published(world):
    empty = services.dataset_create(
        by=world.provider_officer, provider=world.provider, code="GA-EMPTY", name="空",
        key_field="id_number", sharing_type="unconditional",
    )  # fmt: skip
    with pytest.raises(ValidationError):
        services.dataset_publish(dataset=empty, by=world.provider_officer, reason="x")
    assert Dataset.objects.get(pk=empty.pk).status == "draft"


def test_removed_published_field_stays_until_the_next_publication(world, draft):
    officer = world.provider_officer
    services.dataset_publish(dataset=draft, by=officer, reason="首次发布")
    district = draft.fields.get(name="district")
    services.field_remove(field=district, by=officer)
    assert Field.objects.get(pk=district.pk).pending_removal
    version = services.dataset_publish(dataset=draft, by=officer, reason="停止提供区县")
    assert not Field.objects.filter(pk=district.pk).exists()
    assert {"target": "field", "name": "district", "change": "removed"} in version.changes
    assert "district" in [
        f["name"] for f in dataset_version(dataset=draft, version=1).snapshot["fields"]
    ]


def test_an_unpublished_field_is_deleted_at_once(world, draft):
    field = services.field_create(
        dataset=draft, by=world.provider_officer, name="note", label="备注",
        data_type="string", sharing_type="unconditional",
    )  # fmt: skip
    services.field_remove(field=field, by=world.provider_officer)
    assert not Field.objects.filter(pk=field.pk).exists()


def test_field_becoming_not_shared_ends_the_grants_that_hold_it(world, draft):
    from apps.common import clock
    from apps.sharing.models import Grant, GrantField
    from apps.sharing.services import request_approve
    from apps.sharing.submission import request_submit

    officer = world.provider_officer
    services.dataset_publish(dataset=draft, by=officer, reason="首次发布")
    draft.refresh_from_db()
    id_number = draft.fields.get(name="id_number")
    request = request_submit(
        consumer=world.consumer, dataset=draft, by=world.consumer_officer,
        fields=["id_number"], purpose="疫苗接种核验", legal_basis=LEGAL,
        valid_until=clock.today() + dt.timedelta(days=365),
    )  # fmt: skip
    request_approve(request=request, by=officer)
    services.field_update(field=id_number, by=officer, sharing_type="none", masking="redact")
    services.dataset_publish(dataset=draft, by=officer, reason="依法停止共享身份号码")
    grant = Grant.objects.get(consumer=world.consumer)
    assert grant.status == Grant.Status.REVOKED
    assert GrantField.objects.get(grant=grant).removed_at is not None


def _published(dataset) -> dict[str, tuple]:
    return {
        f.name: (f.published_sharing_type, f.published_masking)
        for f in Field.objects.filter(dataset=dataset)
    }


def test_publication_copies_sharing_type_and_mask_to_the_published_attributes(world, draft):
    officer = world.provider_officer
    assert _published(draft) == {"id_number": (None, None), "district": (None, None)}
    services.dataset_publish(dataset=draft, by=officer, reason="首次发布")
    first = {"id_number": ("conditional", "id_card"), "district": ("unconditional", "none")}
    assert _published(draft) == first

    id_number = draft.fields.get(name="id_number")
    services.field_update(field=id_number, by=officer, masking="none")
    services.field_create(
        dataset=draft, by=officer, name="note", label="备注", data_type="string",
        sharing_type="unconditional",
    )  # fmt: skip
    assert _published(draft) == {**first, "note": (None, None)}, "drafts change nothing"

    services.dataset_publish(dataset=draft, by=officer, reason="身份号码不再遮蔽")
    assert _published(draft) == {
        "id_number": ("conditional", "none"),
        "district": ("unconditional", "none"),
        "note": ("unconditional", "none"),
    }


def test_a_refused_publication_leaves_the_published_attributes(world, draft):
    officer = world.provider_officer
    services.dataset_publish(dataset=draft, by=officer, reason="首次发布")
    before = _published(draft)
    district = draft.fields.get(name="district")
    services.field_update(field=district, by=officer, masking="address")
    with pytest.raises(ValidationError):
        services.dataset_publish(dataset=draft, by=officer, reason=" ")
    assert _published(draft) == before


def test_field_of_a_dataset_published_without_a_recorded_version_waits_for_publication(world):
    """Factory/fixture datasets are published (version 1) with no DatasetVersion row."""
    district = world.fields["district"]
    services.field_remove(field=district, by=world.provider_officer)
    assert Field.objects.get(pk=district.pk).pending_removal
    services.dataset_publish(dataset=world.dataset, by=world.provider_officer, reason="停止提供")
    assert not Field.objects.filter(pk=district.pk).exists()


def test_data_migration_publishes_the_last_snapshot_or_the_rows(world, draft):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("apps.catalog.migrations.0004_field_published_attributes")
    officer = world.provider_officer
    services.dataset_publish(dataset=draft, by=officer, reason="首次发布")
    services.field_update(field=draft.fields.get(name="district"), by=officer, masking="address")
    services.field_create(
        dataset=draft, by=officer, name="note", label="备注", data_type="string",
        sharing_type="unconditional",
    )  # fmt: skip
    unpublished = services.dataset_create(
        by=officer, provider=world.provider, code="GA-NEW", name="新", key_field="id_number",
        sharing_type="unconditional",
    )  # fmt: skip
    services.field_create(
        dataset=unpublished, by=officer, name="id_number", label="号码", data_type="string",
        sharing_type="unconditional",
    )  # fmt: skip
    Field.objects.update(published_sharing_type=None, published_masking=None)

    migration.publish_existing_fields(apps, None)

    assert _published(draft) == {
        "id_number": ("conditional", "id_card"),
        "district": ("unconditional", "none"),  # as published, not the draft's "address"
        "note": (None, None),  # never published
    }
    assert _published(world.dataset)["religion"] == ("none", "redact")  # no version: the rows
    assert _published(unpublished) == {"id_number": (None, None)}
