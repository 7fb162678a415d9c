"""factory-boy factories for the whole domain. Departments go through their service so that
each gets its acting group."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from apps.catalog.models import Dataset, Field
from apps.catalog.services import dataset_provider_permissions_grant
from apps.departments.models import Department
from apps.departments.services import department_create, membership_add


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.gov.cn")
    password = factory.django.Password("pw-Secret-123")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:03d}")
    name = factory.Sequence(lambda n: f"部门{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return department_create(**kwargs)


def officer_of(department: Department, username: str | None = None):
    user = UserFactory(username=username or f"officer-{department.code.lower()}")
    membership_add(user=user, department=department, role="officer")
    return user


def auditor_of(department: Department, username: str | None = None):
    user = UserFactory(username=username or f"auditor-{department.code.lower()}")
    membership_add(user=user, department=department, role="auditor")
    return user


def _is_published(dataset: Dataset) -> bool:
    return dataset.status == Dataset.Status.PUBLISHED and dataset.version > 0


class DatasetFactory(factory.django.DjangoModelFactory):
    """A dataset as if created by its department and published (version 1). Its fields
    (FieldFactory) carry published attributes equal to their working ones."""

    class Meta:
        model = Dataset
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"DS-{n:04d}")
    name = factory.Sequence(lambda n: f"数据集{n}")
    provider = factory.SubFactory(DepartmentFactory)
    key_field = "id_number"
    sharing_type = "conditional"
    legal_basis = "《政务数据共享条例》第十二条"
    status = Dataset.Status.PUBLISHED
    version = 1

    @factory.post_generation
    def provider_permissions(obj, create, extracted, **kwargs):
        # What dataset_create gives the provider's acting group.
        if create:
            dataset_provider_permissions_grant(dataset=obj)


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field

    dataset = factory.SubFactory(DatasetFactory)
    name = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"信息项{n}")
    data_type = "string"
    sharing_type = "unconditional"
    masking = "none"
    position = factory.Sequence(lambda n: n)
    # As dataset_publish leaves them: a field of a published dataset has been published too.
    published_sharing_type = factory.LazyAttribute(
        lambda o: o.sharing_type if _is_published(o.dataset) else None
    )
    published_masking = factory.LazyAttribute(
        lambda o: o.masking if _is_published(o.dataset) else None
    )


def dataset_with_fields(
    *, provider, code: str, name: str, key_field: str, legal_basis: str, specs, **extra
):
    """A published conditional dataset whose fields come from (name, label, data type, sharing
    type, mask) tuples; enum fields get 男/女, the key field is required."""
    dataset = DatasetFactory(
        code=code,
        name=name,
        provider=provider,
        key_field=key_field,
        sharing_type="conditional",
        legal_basis=legal_basis,
        **extra,
    )
    fields = {}
    for position, (field_name, label, data_type, sharing, mask) in enumerate(specs):
        fields[field_name] = FieldFactory(
            dataset=dataset,
            name=field_name,
            label=label,
            data_type=data_type,
            sharing_type=sharing,
            masking=mask,
            position=position,
            legal_basis="" if sharing == "unconditional" else "《政务数据共享条例》",
            enum_values=["男", "女"] if data_type == "enum" else [],
            required=field_name == key_field,
        )
    return dataset, fields


def dataset_of_every_type(*, provider, code: str, fields):
    """An unconditional dataset with one field per (name, data type, required) tuple, keyed by
    the first; enum fields get 男/女 (the sync fast-path tests)."""
    dataset = DatasetFactory(
        code=code,
        name=code,
        provider=provider,
        key_field=fields[0][0],
        sharing_type="unconditional",
    )
    for position, (field_name, data_type, required) in enumerate(fields):
        FieldFactory(
            dataset=dataset,
            name=field_name,
            label=field_name,
            data_type=data_type,
            position=position,
            required=required,
            enum_values=["男", "女"] if data_type == "enum" else [],
        )
    return dataset
