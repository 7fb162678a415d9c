import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from tests.factories import DatasetFactory, FieldFactory


def test_conditional_dataset_without_legal_basis_is_refused_by_the_database(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetFactory(provider=world.provider, sharing_type="conditional", legal_basis="")


def test_none_field_without_legal_basis_fails_clean(world):
    field = FieldFactory.build(dataset=world.dataset, sharing_type="none", legal_basis="")
    with pytest.raises(ValidationError) as info:
        field.full_clean()
    assert "legal_basis" in info.value.message_dict


def test_unknown_masking_rule_is_refused_by_clean_and_by_the_database(world):
    field = FieldFactory.build(dataset=world.dataset, masking="rot13")
    with pytest.raises(ValidationError):
        field.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        FieldFactory(dataset=world.dataset, masking="rot13")


def test_unconditional_dataset_admits_only_unconditional_fields(world):
    dataset = DatasetFactory(provider=world.provider, sharing_type="unconditional", legal_basis="")
    field = FieldFactory.build(dataset=dataset, sharing_type="conditional", legal_basis="x")
    with pytest.raises(ValidationError) as info:
        field.full_clean()
    assert "sharing_type" in info.value.message_dict


def test_dataset_clean_reports_fields_that_disagree_with_its_type(world):
    world.dataset.sharing_type = "unconditional"
    with pytest.raises(ValidationError) as info:
        world.dataset.full_clean()
    assert "id_number" in str(info.value)
