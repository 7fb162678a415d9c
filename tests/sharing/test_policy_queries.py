"""The policy answers in a fixed number of SQL queries whatever the number of fields/grants."""

from __future__ import annotations

import datetime as dt

import pytest

from apps.catalog.models import Dataset, Field, FieldGroupObjectPermission
from apps.common import clock
from apps.sharing.models import DataRequest, Grant, GrantField
from apps.sharing.policy import access_for, accessible_fields_for_catalog
from apps.sharing.recording import read_field_permission
from tests.factories import DatasetFactory, DepartmentFactory

pytestmark = pytest.mark.django_db


def _world(size: int):
    """A published dataset of `size` conditional fields and `size` live grants, one field each."""
    provider = DepartmentFactory(code=f"P{size}")
    consumer = DepartmentFactory(code=f"C{size}")
    dataset = DatasetFactory(provider=provider, code=f"DS-{size}")
    fields = Field.objects.bulk_create(
        [
            Field(
                dataset=dataset,
                name=f"f{n}",
                label=f"信息项{n}",
                data_type="string",
                sharing_type="conditional",
                legal_basis="《政务数据共享条例》",
                masking="mobile" if n % 2 else "none",
                position=n,
                published_sharing_type="conditional",
                published_masking="mobile" if n % 2 else "none",
            )
            for n in range(size)
        ]
    )
    # Shared unconditionally and in clear: what the grants' row filters name.
    Field.objects.create(
        dataset=dataset,
        name="zone",
        label="区域",
        data_type="string",
        sharing_type="unconditional",
        position=size,
        published_sharing_type="unconditional",
        published_masking="none",
    )
    now = clock.now()
    requests = DataRequest.objects.bulk_create(
        [
            DataRequest(
                consumer=consumer,
                dataset=dataset,
                purpose="p",
                legal_basis="b",
                valid_until=now.date() + dt.timedelta(days=30),
                due_by=now.date(),
                status="approved",
                created_at=now,
            )
            for _ in range(size)
        ]
    )
    grants = Grant.objects.bulk_create(
        [
            Grant(
                request=r,
                consumer=consumer,
                dataset=dataset,
                valid_from=now - dt.timedelta(days=1),
                valid_until=now + dt.timedelta(days=30),
                created_at=now,
                row_filter={"zone": str(i)} if i < 3 else None,
            )
            for i, r in enumerate(requests)
        ]
    )
    GrantField.objects.bulk_create(
        [
            GrantField(
                grant=g,
                field=f,
                field_name=f.name,
                field_label=f.label,
                field_masking=f.published_masking,
                mask_override="hash",
            )
            for g, f in zip(grants, fields, strict=True)
        ]
    )
    permission = read_field_permission()
    FieldGroupObjectPermission.objects.bulk_create(
        [
            FieldGroupObjectPermission(
                group=consumer.group, permission=permission, content_object=f
            )
            for f in fields
        ]
    )
    return provider, consumer, dataset


@pytest.mark.parametrize("size", [1, 200])
def test_access_for_takes_two_queries_for_a_grantee(size, django_assert_num_queries):
    _provider, consumer, dataset = _world(size)
    with django_assert_num_queries(2):
        decision = access_for(dataset=dataset, department=consumer)
    granted = {n: a for n, a in decision.fields.items() if n != "zone"}
    assert len(granted) == size
    assert {a.mask for a in granted.values()} == {"hash"}
    assert len(decision.grant_ids) == size
    assert sum(1 for a in decision.fields.values() if a.rows is not None) == min(size, 3)


@pytest.mark.parametrize("size", [1, 200])
def test_access_for_the_owner_takes_one_query(size, django_assert_num_queries):
    provider, _consumer, dataset = _world(size)
    with django_assert_num_queries(1):
        decision = access_for(dataset=dataset, department=provider)
    assert len(decision.fields) == size + 1 and all(a.clear for a in decision.fields.values())


@pytest.mark.parametrize("size", [1, 200])
def test_access_for_with_prefetched_fields_takes_one_query(size, django_assert_num_queries):
    _provider, consumer, dataset = _world(size)
    dataset = Dataset.objects.prefetch_related("fields").get(pk=dataset.pk)
    with django_assert_num_queries(1):
        decision = access_for(dataset=dataset, department=consumer)
    assert list(decision.fields) == [*(f"f{n}" for n in range(size)), "zone"], "position order"


@pytest.mark.parametrize("size", [1, 200])
def test_catalog_access_takes_two_queries_for_many_datasets(size, django_assert_num_queries):
    _provider, consumer, dataset = _world(size)
    others = [DatasetFactory(provider=dataset.provider) for _ in range(3)]
    datasets = list(Dataset.objects.filter(pk__in=[dataset.pk, *(d.pk for d in others)]))
    with django_assert_num_queries(2):
        decisions = accessible_fields_for_catalog(datasets=datasets, department=consumer)
    assert len(decisions[dataset.pk].fields) == size + 1
    assert all(decisions[d.pk].fields == {} for d in others)
