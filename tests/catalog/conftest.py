"""Helpers for the catalogue tests: a draft built through the services, and the stored list's
fingerprint to prove that a rejected import changed nothing."""

from __future__ import annotations

import pytest

from apps.catalog import services
from apps.catalog.models import Dataset, DatasetVersion, Field

LEGAL = "《政务数据共享条例》第十二条"


def make_draft(officer, provider, code="GA-HJ-002", sharing_type="conditional"):
    dataset = services.dataset_create(
        by=officer,
        provider=provider,
        code=code,
        name="户籍迁移信息",
        key_field="id_number",
        sharing_type=sharing_type,
        legal_basis=LEGAL if sharing_type != "unconditional" else "",
        category="人口",
    )
    field_type = {"unconditional": "unconditional", "none": "none"}.get(sharing_type, "conditional")
    services.field_create(
        dataset=dataset,
        by=officer,
        name="id_number",
        label="公民身份号码",
        data_type="id_card",
        sharing_type=field_type,
        legal_basis=LEGAL if field_type != "unconditional" else "",
        masking="id_card",
    )
    services.field_create(
        dataset=dataset,
        by=officer,
        name="district",
        label="所属区县",
        data_type="string",
        sharing_type="unconditional" if sharing_type != "none" else "none",
        legal_basis=LEGAL if sharing_type == "none" else "",
    )
    return dataset


def stored_list() -> tuple:
    """Everything an import could touch, as plain values."""
    return (
        list(
            Dataset.objects.order_by("code").values_list(
                "code", "name", "provider_id", "sharing_type", "legal_basis", "status", "version"
            )
        ),  # fmt: skip
        list(
            Field.objects.order_by("dataset__code", "name").values_list(
                "dataset__code", "name", "label", "sharing_type", "masking", "pending_removal"
            )
        ),  # fmt: skip
        DatasetVersion.objects.count(),
    )


@pytest.fixture
def draft(world):
    return make_draft(world.provider_officer, world.provider)


@pytest.fixture
def owned_world(world):
    """The shared world, stating that the provider holds its object permissions on its
    factory-made dataset (DatasetFactory grants them already; the grant is idempotent)."""
    services.dataset_provider_permissions_grant(dataset=world.dataset)
    return world
