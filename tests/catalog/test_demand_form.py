"""The demand form leads nowhere an officer may not go: the dataset choice has no links to
dataset pages (another department's, or an add page for one's own department's, which a demand
never names), and a saved demand's dataset is a link only for those who may open its page. The
one department an officer files for is chosen for them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.catalog import services
from apps.departments.services import membership_add
from tests.factories import DepartmentFactory, officer_of

pytestmark = pytest.mark.django_db

ADD = "admin:catalog_demand_add"


def _dataset_page(dataset) -> str:
    return reverse("admin:catalog_dataset_change", args=[dataset.pk])


def _file(world):
    return services.demand_create(
        by=world.consumer_officer, requester=world.consumer, provider=world.provider,
        title="需要人口数据", description="用于疫苗接种通知", dataset=world.dataset,
    )  # fmt: skip


def _shown(client, demand) -> str:
    response = client.get(reverse("admin:catalog_demand_change", args=[demand.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _readonly_dataset(page: str) -> str:
    found = re.search(r'<div class="readonly">(.*?)</div>', page.split("field-dataset_shown")[1])
    assert found, "no read-only dataset"
    return found[1]


def test_the_dataset_choice_offers_no_add_change_or_view_links(client, world):
    client.force_login(world.consumer_officer)
    page = client.get(reverse(ADD)).content.decode()
    for link in ("add_id_dataset", "change_id_dataset", "view_id_dataset", "delete_id_dataset"):
        assert link not in page
    choice = page.split("field-dataset")[1].split("field-title")[0]
    assert 'name="dataset"' in choice
    assert "<a " not in choice and "/admin/catalog/dataset/" not in choice


def test_the_only_requesting_department_is_preselected(client, world):
    client.force_login(world.consumer_officer)
    page = client.get(reverse(ADD)).content.decode()
    select = re.search(r'<select name="requester"[^>]*>(.*?)</select>', page, re.S)[1]
    assert re.findall(r'<option value="(\d+)" selected>', select) == [str(world.consumer.pk)]


def test_an_officer_of_two_departments_chooses_the_requester_themselves(client, world):
    second = DepartmentFactory(code="SJ", name="省数据局")
    officer = officer_of(world.consumer, username="officer-two")
    membership_add(user=officer, department=second, role="officer")
    client.force_login(officer)
    page = client.get(reverse(ADD)).content.decode()
    select = re.search(r'<select name="requester"[^>]*>(.*?)</select>', page, re.S)[1]
    assert " selected" in select.split("</option>")[0]  # the empty choice, "---------"
    assert len(re.findall(r" selected", select)) == 1


def test_the_requesting_department_reads_the_dataset_as_text_with_its_department(client, world):
    demand = _file(world)
    client.force_login(world.consumer_officer)
    page = _shown(client, demand)
    shown = _readonly_dataset(page)
    assert shown.strip() == f"GA-RK-001 人口基本信息 ({world.provider.name})"
    assert _dataset_page(world.dataset) not in page


@pytest.mark.parametrize("viewer", ["provider_officer", "provider_auditor", "platform_auditor"])
def test_those_who_may_open_the_dataset_get_a_link_to_it(client, world, viewer):
    demand = _file(world)
    client.force_login(getattr(world, viewer))
    shown = _readonly_dataset(_shown(client, demand))
    assert f'<a href="{_dataset_page(world.dataset)}">GA-RK-001 人口基本信息' in shown
    assert client.get(_dataset_page(world.dataset)).status_code == 200  # the link works
