"""Reads of the list cost a constant number of queries."""

from __future__ import annotations

import pytest

from apps.catalog import services
from apps.catalog.models import Dataset
from apps.catalog.selectors import (
    catalog_published,
    dataset_by_code,
    datasets_for_user,
    published_snapshots,
)
from tests.catalog.conftest import make_draft
from tests.conftest import build_population_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(world):
    for n in range(2, 6):
        build_population_dataset(world.consumer if n % 2 else world.provider, f"X-{n:03d}")
    make_draft(world.provider_officer, world.provider, "GA-DRAFT-1")
    return world


def test_catalog_published_lists_published_only_in_two_queries(many, django_assert_num_queries):
    with django_assert_num_queries(2):
        datasets = list(catalog_published())
        labels = [f.label for d in datasets for f in d.fields.all()] + [
            d.provider.code for d in datasets
        ]
    assert "GA-DRAFT-1" not in {d.code for d in datasets}
    assert len(datasets) == 5 and "公民身份号码" in labels


def test_catalog_published_filters(many):
    assert {d.code for d in catalog_published(provider="WJ")} == {"X-003", "X-005"}
    assert not list(catalog_published(sharing_type="unconditional"))
    assert {d.code for d in catalog_published(q="宗教")} == {d.code for d in catalog_published()}
    assert [d.code for d in catalog_published(q="rk-001")] == ["GA-RK-001"]


def test_dataset_by_code(many, django_assert_num_queries):
    with django_assert_num_queries(2):
        dataset = dataset_by_code(code="GA-RK-001")
        assert len(dataset.fields.all()) == 8 and dataset.provider.code == "GA"
    with pytest.raises(Dataset.DoesNotExist):
        dataset_by_code(code="GA-DRAFT-1")
    assert dataset_by_code(code="GA-DRAFT-1", published_only=False).status == "draft"


def test_published_snapshots_in_constant_queries(many, django_assert_num_queries):
    draft = Dataset.objects.get(code="GA-DRAFT-1")
    services.dataset_publish(dataset=draft, by=many.provider_officer, reason="首次")
    with django_assert_num_queries(2):
        snapshots = published_snapshots()
    assert len(snapshots) == 6


def test_officer_sees_own_department_only(many, django_assert_num_queries):
    # the user's roles (platform auditor group, auditor memberships), then one query whose
    # permission subquery is resolved inside it
    with django_assert_num_queries(3):
        codes = {d.code for d in datasets_for_user(user=many.provider_officer)}
    # factory datasets carry their provider's object permissions, as dataset_create gives them
    assert codes == {"GA-RK-001", "X-002", "X-004", "GA-DRAFT-1"}
    assert {d.code for d in datasets_for_user(user=many.consumer_officer)} == {"X-003", "X-005"}
    assert {d.code for d in datasets_for_user(user=many.platform_auditor)} >= {"X-003", "GA-RK-001"}
