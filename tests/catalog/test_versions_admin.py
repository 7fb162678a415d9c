"""Published versions read as what they are: the changes as a table in the forms' words, the
entry as a field table; the list filters by dataset, offering only the viewer's."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.catalog import services
from tests.catalog.conftest import LEGAL, make_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def versions(world):
    """GA-HJ-002 published twice: v2 closes id_number (有条件共享 → 不予共享), removes district
    and adds note. WJ-YM-001 (another department) published once."""
    dataset = make_draft(world.provider_officer, world.provider, "GA-HJ-002")
    services.dataset_publish(dataset=dataset, by=world.provider_officer, reason="首次")
    services.field_update(
        field=dataset.fields.get(name="id_number"), by=world.provider_officer, sharing_type="none"
    )
    services.field_remove(field=dataset.fields.get(name="district"), by=world.provider_officer)
    services.field_create(
        dataset=dataset, by=world.provider_officer, name="note", label="备注",
        data_type="enum", sharing_type="conditional", legal_basis=LEGAL, masking="redact",
        enum_values=["甲", "乙"],
    )  # fmt: skip
    v2 = services.dataset_publish(dataset=dataset, by=world.provider_officer, reason="收紧")
    other = make_draft(world.consumer_officer, world.consumer, "WJ-YM-001")
    services.dataset_publish(dataset=other, by=world.consumer_officer, reason="首次")
    return dataset, v2, other


def _page(client, version, language="en") -> str:
    url = reverse("admin:catalog_datasetversion_change", args=[version.pk])
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_changes_are_a_table_in_the_forms_words_not_json(client, world, versions):
    dataset, v2, other = versions
    client.force_login(world.provider_officer)
    page = _page(client, v2)
    assert "&quot;sharing_type&quot;" not in page and "&quot;change&quot;" not in page
    text = _text(page)
    assert "Field id_number Sharing type Conditional (有条件共享) → Not shared (不予共享)" in text
    assert "Field district Removed" in text
    assert "Field note Added" in text


def test_the_changes_read_in_chinese_for_a_chinese_reader(client, world, versions):
    dataset, v2, other = versions
    client.force_login(world.provider_officer)
    text = _text(_page(client, v2, "zh-hans"))
    assert "信息项 id_number 共享类型 有条件共享 → 不予共享" in text
    assert "conditional" not in text


def test_the_snapshot_is_a_field_table_with_labels(client, world, versions):
    dataset, v2, other = versions
    client.force_login(world.provider_officer)
    page = _page(client, v2)
    table = page[page.index('class="gd-version-fields"') :]
    headers = re.findall(r"<th>([^<]*)</th>", table[: table.index("</thead>")])
    assert headers[:6] == ["Field name", "Field label", "Data type", "Sensitivity",
                           "Sharing type", "Masking rule"]  # fmt: skip
    text = _text(table)
    assert "id_number 公民身份号码 Resident ID number" in text
    assert "Hidden entirely" in text and "甲|乙" in text
    assert "district" not in text  # as published in v2


def test_the_version_list_filters_by_the_viewers_datasets_only(client, world, versions):
    dataset, v2, other = versions
    second = make_draft(world.provider_officer, world.provider, "GA-HJ-003")
    services.dataset_publish(dataset=second, by=world.provider_officer, reason="首次")
    client.force_login(world.provider_officer)
    url = reverse("admin:catalog_datasetversion_changelist")
    page = client.get(url).content.decode()
    for own in (dataset, second):
        assert f"?dataset__id__exact={own.pk}" in page
    assert f"dataset__id__exact={other.pk}" not in page and other.code not in page
    narrowed = client.get(url, {"dataset__id__exact": dataset.pk}).context["cl"]
    assert narrowed.result_count == 2


def test_a_version_page_costs_the_same_queries_however_many_fields(client, world, versions):
    dataset, v2, other = versions
    client.force_login(world.provider_officer)
    with CaptureQueriesContext(connection) as small:
        _page(client, v2)
    for n in range(5):
        services.field_create(
            dataset=dataset, by=world.provider_officer, name=f"extra_{n}", label=f"附加{n}",
            data_type="string", sharing_type="unconditional",
        )  # fmt: skip
    v3 = services.dataset_publish(dataset=dataset, by=world.provider_officer, reason="扩充")
    with CaptureQueriesContext(connection) as large:
        _page(client, v3)
    assert len(large) == len(small)


def test_the_version_list_costs_the_same_queries_however_many_versions(client, world, versions):
    dataset, v2, other = versions
    client.force_login(world.provider_officer)
    url = reverse("admin:catalog_datasetversion_changelist")
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(3):
        dataset.refresh_from_db()
        services.dataset_update(dataset=dataset, by=world.provider_officer, summary=f"第{n}次")
        services.dataset_publish(dataset=dataset, by=world.provider_officer, reason=f"第{n}次")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).context["cl"].result_count == 5
    assert len(many) == len(few)
