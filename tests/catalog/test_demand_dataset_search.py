"""The demand form's dataset choice is a search (code and name), not a select of every dataset
on the platform: it finds the published datasets of other departments, those of the asked
department once one is chosen, and answers only those who may file a demand."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.catalog.models import Dataset
from tests.factories import DatasetFactory, DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

SEARCH = "admin:catalog_demand_dataset_search"


def _search(client, **params) -> dict:
    response = client.get(reverse(SEARCH), params)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def _codes(answer: dict) -> list[str]:
    return [row["text"].split(" ")[0] for row in answer["results"]]


@pytest.fixture
def catalogue(world):
    """Beside the world's GA-RK-001: two more of 公安's, one of 民政's, a draft of 公安's and one
    of the consumer's own."""
    DatasetFactory(provider=world.provider, code="GA-HJ-002", name="户籍迁移信息")
    DatasetFactory(provider=world.provider, code="GA-SA-003", name="涉案人员信息")
    DatasetFactory(provider=world.outsider, code="MZ-DB-001", name="最低生活保障对象")
    DatasetFactory(
        provider=world.provider, code="GA-CG-009", name="户籍草稿", status="draft", version=0
    )
    DatasetFactory(provider=world.consumer, code="WJ-YM-001", name="疫苗接种记录")
    return world


@pytest.fixture
def consumer_client(client, catalogue):
    client.force_login(catalogue.consumer_officer)
    return client


def test_the_search_finds_datasets_by_code_or_name_without_drafts_or_ones_own(consumer_client):
    assert _codes(_search(consumer_client)) == ["GA-HJ-002", "GA-RK-001", "GA-SA-003", "MZ-DB-001"]
    assert _codes(_search(consumer_client, term="ga-hj")) == ["GA-HJ-002"]
    assert _codes(_search(consumer_client, term="户籍")) == ["GA-HJ-002"]  # not the draft
    assert _codes(_search(consumer_client, term="疫苗")) == []  # the officer's own department's
    assert _codes(_search(consumer_client, term="GA 人员")) == ["GA-SA-003"]  # every word


def test_the_results_name_the_holding_department(consumer_client, catalogue):
    [row] = _search(consumer_client, term="MZ-DB-001")["results"]
    dataset = Dataset.objects.get(code="MZ-DB-001")
    assert row == {
        "id": str(dataset.pk),
        "text": f"MZ-DB-001 最低生活保障对象 ({catalogue.outsider.name})",
        "provider": catalogue.outsider.pk,
    }


def test_a_chosen_asked_department_limits_the_search_to_its_datasets(consumer_client, catalogue):
    answer = _search(consumer_client, provider=catalogue.outsider.pk)
    assert _codes(answer) == ["MZ-DB-001"]
    assert _codes(_search(consumer_client, provider=catalogue.outsider.pk, term="GA")) == []
    assert len(_codes(_search(consumer_client, provider=""))) == 4  # none chosen yet


def test_the_search_comes_in_pages(consumer_client, catalogue):
    for n in range(25):
        DatasetFactory(provider=catalogue.outsider, code=f"MZ-X-{n:03d}")
    first = _search(consumer_client, term="MZ-X")
    second = _search(consumer_client, term="MZ-X", page=2)
    assert (len(first["results"]), first["pagination"]["more"]) == (20, True)
    assert (len(second["results"]), second["pagination"]["more"]) == (5, False)


def test_a_platform_admin_finds_every_published_dataset(client, catalogue):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    codes = _codes(_search(client))
    assert codes == ["GA-HJ-002", "GA-RK-001", "GA-SA-003", "MZ-DB-001", "WJ-YM-001"]


def test_who_may_not_file_a_demand_is_refused_the_search(client, catalogue):
    client.force_login(catalogue.provider_auditor)
    assert client.get(reverse(SEARCH)).status_code == 403
    client.force_login(catalogue.platform_auditor)
    assert client.get(reverse(SEARCH)).status_code == 403
    client.logout()
    response = client.get(reverse(SEARCH))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_add_form_offers_a_search_not_a_list_of_every_dataset(consumer_client):
    page = consumer_client.get(reverse("admin:catalog_demand_add")).content.decode()
    assert f'data-ajax--url="{reverse(SEARCH)}"' in page
    assert 'data-provider-field="id_provider"' in page
    # The script sets up select2 through django.jQuery: it must come after both.
    scripts = ["select2/select2.full", "admin/js/jquery.init.js", "catalog/demand_dataset.js"]
    positions = [page.find(script) for script in scripts]
    assert -1 not in positions and positions == sorted(positions), positions
    assert "catalog/demand_dataset.css" in page and "select2/select2.min.css" in page
    for code in ("GA-RK-001", "GA-HJ-002", "MZ-DB-001"):
        assert code not in page


def _post(client, world, dataset: Dataset | None):
    return client.post(
        reverse("admin:catalog_demand_add"),
        {"requester": world.consumer.pk, "provider": world.provider.pk,
         "dataset": dataset.pk if dataset else "", "title": "需要户籍迁移数据",
         "description": "用于疫苗接种通知", "fields_wanted": "", "legal_basis": ""},
    )  # fmt: skip


def test_a_dataset_found_by_the_search_is_saved_with_the_demand(consumer_client, catalogue):
    dataset = Dataset.objects.get(code="GA-HJ-002")
    assert _post(consumer_client, catalogue, dataset).status_code == 302
    assert dataset.demands.get().requester == catalogue.consumer


@pytest.mark.parametrize("code", ["MZ-DB-001", "WJ-YM-001", "GA-CG-009"])
def test_a_dataset_outside_the_choices_is_refused_and_shown_again(consumer_client, catalogue, code):
    """Another department's than the asked one, one's own, a draft: what a hand-made request
    could send, the search never offers."""
    dataset = Dataset.objects.get(code=code)
    response = _post(consumer_client, catalogue, dataset)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["dataset"]
    assert not dataset.demands.exists()


def test_the_search_finds_datasets_by_their_departments_name_or_code(consumer_client, catalogue):
    health = DepartmentFactory(code="SWJ", name="市卫生健康局")
    DatasetFactory(provider=health, code="SW-YY-001", name="医疗机构信息")
    # 卫生 also names the officer's own 省卫生健康委员会, whose datasets are still not offered.
    assert _codes(_search(consumer_client, term="卫生")) == ["SW-YY-001"]
    assert _codes(_search(consumer_client, term="swj")) == ["SW-YY-001"]  # not in its code
    assert _codes(_search(consumer_client, term="公安 户籍")) == ["GA-HJ-002"]
    assert _codes(_search(consumer_client, term="卫生", provider=catalogue.outsider.pk)) == []


def test_a_provider_that_is_not_an_ascii_number_is_no_provider_not_a_500(
    consumer_client, catalogue
):
    # "²".isdigit() is true but int("²") raises.
    assert len(_codes(_search(consumer_client, provider="²"))) == 4
