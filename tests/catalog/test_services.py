"""Drafts, the model rules and object-permission isolation in the service layer."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from apps.catalog import services
from apps.catalog.models import Dataset, DatasetGroupObjectPermission, Field
from tests.catalog.conftest import LEGAL, make_draft
from tests.factories import FieldFactory

pytestmark = pytest.mark.django_db


def test_create_gives_the_provider_group_its_object_permissions(world, draft):
    codenames = set(
        DatasetGroupObjectPermission.objects.filter(
            content_object=draft, group=world.provider.group
        ).values_list("permission__codename", flat=True)
    )
    assert codenames == {"view_dataset", "change_dataset", "delete_dataset", "publish_dataset"}
    assert draft.status == Dataset.Status.DRAFT and draft.version == 0


def test_conditional_dataset_without_legal_basis_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        services.dataset_create(
            by=world.provider_officer, provider=world.provider, code="GA-X-1", name="x",
            key_field="id_number", sharing_type="conditional", legal_basis="  ",
        )  # fmt: skip
    assert "legal_basis" in exc.value.message_dict
    assert not Dataset.objects.filter(code="GA-X-1").exists()


def test_not_shared_field_without_legal_basis_is_refused(world, draft):
    with pytest.raises(ValidationError) as exc:
        services.field_create(
            dataset=draft, by=world.provider_officer, name="religion", label="宗教信仰",
            data_type="string", sharing_type="none",
        )  # fmt: skip
    assert "legal_basis" in exc.value.message_dict


def test_the_database_refuses_a_conditional_field_without_legal_basis_too(world, draft):
    with pytest.raises(IntegrityError), transaction.atomic():
        Field.objects.create(
            dataset=draft, name="x", label="x", data_type="string", sharing_type="conditional"
        )


def test_unconditional_dataset_cannot_have_a_conditional_field(world):
    dataset = make_draft(world.provider_officer, world.provider, "GA-OPEN-1", "unconditional")
    with pytest.raises(ValidationError) as exc:
        services.field_create(
            dataset=dataset, by=world.provider_officer, name="name", label="姓名",
            data_type="string", sharing_type="conditional", legal_basis=LEGAL,
        )  # fmt: skip
    assert "sharing_type" in exc.value.message_dict


def test_not_shared_dataset_admits_only_not_shared_fields(world):
    dataset = make_draft(world.provider_officer, world.provider, "GA-NONE-1", "none")
    with pytest.raises(ValidationError):
        services.field_create(
            dataset=dataset, by=world.provider_officer, name="gender", label="性别",
            data_type="string", sharing_type="unconditional",
        )  # fmt: skip


def test_conditional_dataset_may_mix_field_types(world, draft):
    assert {f.sharing_type for f in draft.fields.all()} == {"conditional", "unconditional"}
    services.dataset_check(dataset=draft)


def test_changing_the_dataset_type_against_its_fields_is_refused(world, draft):
    with pytest.raises(ValidationError) as exc:
        services.dataset_update(
            dataset=draft, by=world.provider_officer, sharing_type="unconditional", legal_basis=""
        )
    assert "sharing_type" in exc.value.message_dict
    draft.refresh_from_db()
    assert draft.sharing_type == "conditional"


def test_unknown_masking_rule_is_refused_by_the_model_and_the_database(world, draft):
    with pytest.raises(ValidationError) as exc:
        services.field_create(
            dataset=draft, by=world.provider_officer, name="phone", label="电话",
            data_type="mobile", sharing_type="unconditional", masking="scramble",
        )  # fmt: skip
    assert "masking" in exc.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        FieldFactory(dataset=draft, masking="scramble")


def test_enumeration_needs_its_values(world, draft):
    with pytest.raises(ValidationError) as exc:
        services.field_create(
            dataset=draft, by=world.provider_officer, name="gender", label="性别",
            data_type="enum", sharing_type="unconditional",
        )  # fmt: skip
    assert "enum_values" in exc.value.message_dict


def test_key_field_must_be_among_the_fields(world, draft):
    with pytest.raises(ValidationError) as exc:
        services.dataset_update(dataset=draft, by=world.provider_officer, key_field="nope")
    assert "key_field" in exc.value.message_dict


def test_key_field_cannot_be_removed(world, draft):
    key = draft.fields.get(name="id_number")
    with pytest.raises(ValidationError):
        services.field_remove(field=key, by=world.provider_officer)


def test_unknown_attribute_is_refused(world, draft):
    with pytest.raises(ValidationError):
        services.dataset_update(dataset=draft, by=world.provider_officer, provider=world.consumer)


def test_officer_of_another_department_cannot_change_a_dataset(owned_world):
    w = owned_world
    with pytest.raises(PermissionDenied):
        services.dataset_update(dataset=w.dataset, by=w.consumer_officer, name="被篡改")
    with pytest.raises(PermissionDenied):
        services.field_update(field=w.fields["religion"], by=w.consumer_officer, label="x")
    with pytest.raises(PermissionDenied):
        services.field_remove(field=w.fields["district"], by=w.outsider_officer)
    with pytest.raises(PermissionDenied):
        services.dataset_publish(dataset=w.dataset, by=w.consumer_officer, reason="x")
    w.dataset.refresh_from_db()
    assert w.dataset.name == "人口基本信息"


def test_officer_cannot_create_a_dataset_for_another_department(world):
    with pytest.raises(PermissionDenied):
        make_draft(world.consumer_officer, world.provider, "GA-FAKE-1")
    assert not Dataset.objects.filter(code="GA-FAKE-1").exists()


def test_auditors_can_change_nothing(owned_world):
    w = owned_world
    for user in (w.provider_auditor, w.platform_auditor):
        with pytest.raises(PermissionDenied):
            services.dataset_update(dataset=w.dataset, by=user, name="x")


def test_owning_officer_edits_a_published_dataset_as_unpublished_changes(owned_world):
    w = owned_world
    services.field_update(field=w.fields["gender"], by=w.provider_officer, label="性别代码")
    w.dataset.refresh_from_db()
    assert w.dataset.has_unpublished_changes


def test_demand_is_visible_to_both_sides_and_answered_only_by_the_asked_department(world):
    from apps.catalog.permissions import demands_visible

    demand = services.demand_create(
        by=world.consumer_officer, requester=world.consumer, provider=world.provider,
        title="需要户籍迁移数据", description="用于疫苗接种通知", dataset=world.dataset,
    )  # fmt: skip
    for user in (world.consumer_officer, world.provider_officer, world.platform_auditor):
        assert demands_visible(user).filter(pk=demand.pk).exists()
    assert not demands_visible(world.outsider_officer).filter(pk=demand.pk).exists()
    for user in (world.consumer_officer, world.outsider_officer, world.provider_auditor):
        with pytest.raises(PermissionDenied):
            services.demand_answer(demand=demand, by=user, answer="x")
    services.demand_answer(demand=demand, by=world.provider_officer, answer="下季度提供")
    demand.refresh_from_db()
    assert demand.status == "answered" and demand.answered_at is not None


def test_demand_rules(world):
    with pytest.raises(PermissionDenied):
        services.demand_create(
            by=world.provider_officer, requester=world.consumer, provider=world.provider,
            title="x", description="x",
        )  # fmt: skip
    with pytest.raises(ValidationError):
        services.demand_create(
            by=world.consumer_officer, requester=world.consumer, provider=world.outsider,
            title="x", description="x", dataset=world.dataset,
        )  # fmt: skip
    with pytest.raises(ValidationError):
        services.demand_create(
            by=world.consumer_officer, requester=world.consumer, provider=world.consumer,
            title="x", description="x",
        )  # fmt: skip


def test_an_update_to_the_stored_values_changes_nothing(owned_world):
    """Line breaks sent as CRLF by a browser are the stored LF text: neither the dataset nor
    its "unpublished changes" mark move."""
    w = owned_world
    Dataset.objects.filter(pk=w.dataset.pk).update(summary="第一行\n第二行")
    w.dataset.refresh_from_db()
    before = w.dataset.updated_at
    services.dataset_update(dataset=w.dataset, by=w.provider_officer, summary="第一行\r\n第二行")
    services.field_update(field=w.fields["gender"], by=w.provider_officer, label="性别")
    w.dataset.refresh_from_db()
    assert (w.dataset.updated_at, w.dataset.has_unpublished_changes) == (before, False)


def test_text_is_stored_with_lf_line_breaks(world, draft):
    services.dataset_update(dataset=draft, by=world.provider_officer, summary="甲\r\n乙\r丙")
    field = services.field_create(
        dataset=draft, by=world.provider_officer, name="note", label="备注", data_type="string",
        sharing_type="unconditional", conditions="仅\r\n限",
    )  # fmt: skip
    draft.refresh_from_db()
    field.refresh_from_db()
    assert (draft.summary, field.conditions) == ("甲\n乙\n丙", "仅\n限")


def test_a_field_created_without_a_position_goes_after_the_last_one(world, draft):
    services.field_update(field=draft.fields.get(name="district"), by=world.provider_officer,
                          position=7)  # fmt: skip
    field = services.field_create(
        dataset=draft, by=world.provider_officer, name="note", label="备注", data_type="string",
        sharing_type="unconditional",
    )  # fmt: skip
    assert field.position == 8
