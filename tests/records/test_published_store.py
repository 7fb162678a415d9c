"""A published dataset has a record store from its publication (apps.catalog.services
.dataset_publish), so that reading one never synchronised answers with no records."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.catalog.models import Dataset
from apps.catalog.services import dataset_publish
from apps.records.store import live_table, table_exists
from tests.factories import DatasetFactory, FieldFactory

pytestmark = pytest.mark.django_db


def test_publication_creates_the_empty_store_and_reads_answer_with_no_records(world, client):
    from rest_framework.test import APIClient

    dataset = DatasetFactory(provider=world.provider, status=Dataset.Status.DRAFT, version=0)
    FieldFactory(dataset=dataset, name="id_number", data_type="id_card")
    FieldFactory(dataset=dataset, name="district")
    with connection.cursor() as cursor:
        assert not table_exists(cursor, live_table(dataset.pk))
    dataset_publish(dataset=dataset, by=world.provider_officer, reason="首次发布")
    with connection.cursor() as cursor:
        assert table_exists(cursor, live_table(dataset.pk))
    api = APIClient()
    api.force_login(world.consumer_officer)
    response = api.get(f"/api/v1/datasets/{dataset.code}/records/", HTTP_X_PURPOSE="核验")
    assert response.status_code == 200 and response.json()["results"] == []
