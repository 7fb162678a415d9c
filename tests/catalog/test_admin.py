"""The admin as officers, auditors and platform admins use it: isolation by department."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from apps.catalog import services
from apps.catalog.models import Dataset, DatasetVersion, Demand
from tests.catalog.conftest import LEGAL, make_draft
from tests.catalog.sheets import dataset_row, field_rows, good_xlsx, xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(world):
    """Department A (GA) and B (WJ), each with a draft made through the services."""
    a = make_draft(world.provider_officer, world.provider, "GA-HJ-002")
    b = make_draft(world.consumer_officer, world.consumer, "WJ-YM-001")
    return world, a, b


def _url(name, *args):
    return reverse(f"admin:catalog_dataset_{name}", args=args)


def _form(dataset_code, provider, sharing="conditional", fields=(), initial=0, key="id_number"):
    data = {
        "code": dataset_code, "name": "疫苗接种记录", "provider": provider.pk, "summary": "",
        "category": "卫生", "key_field": key, "update_frequency": "daily",
        "sharing_type": sharing, "conditions": "", "legal_basis": LEGAL,
        "fields-TOTAL_FORMS": len(fields), "fields-INITIAL_FORMS": initial,
        "fields-MIN_NUM_FORMS": 0, "fields-MAX_NUM_FORMS": 1000, "_save": "1",
    }  # fmt: skip
    for i, field in enumerate(fields):
        for key_, value in field.items():
            data[f"fields-{i}-{key_}"] = value
    return data


ID_FIELD = {"position": 0, "name": "id_number", "label": "公民身份号码", "data_type": "id_card",
            "sensitivity": "sensitive", "sharing_type": "conditional", "masking": "id_card",
            "legal_basis": LEGAL, "conditions": "", "enum_values": "[]"}  # fmt: skip


def test_officer_changelist_shows_own_department_only(client, two):
    world, a, b = two
    client.force_login(world.provider_officer)
    page = client.get(_url("changelist"))
    assert page.status_code == 200
    assert a.code in page.content.decode() and b.code not in page.content.decode()


def test_officer_cannot_open_or_change_another_departments_dataset(client, two):
    world, a, b = two
    client.force_login(world.provider_officer)
    assert client.get(_url("change", b.pk)).status_code == 302  # "does not exist", back home
    response = client.post(_url("change", b.pk), _form(b.code, world.consumer))
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.name == "户籍迁移信息"


def test_officer_cannot_add_a_dataset_for_another_department(client, world):
    client.force_login(world.provider_officer)
    page = client.get(_url("add"))
    assert world.provider.name in page.content.decode()
    assert world.consumer.name not in page.content.decode()
    response = client.post(_url("add"), _form("WJ-FAKE-1", world.consumer, fields=[ID_FIELD]))
    assert response.status_code == 200  # the form shows the invalid choice
    assert not Dataset.objects.filter(code="WJ-FAKE-1").exists()


def test_officer_adds_a_dataset_with_fields_and_gets_its_permissions(client, world):
    client.force_login(world.consumer_officer)
    response = client.post(_url("add"), _form("WJ-YM-002", world.consumer, fields=[ID_FIELD]))
    assert response.status_code == 302, response.content.decode()[:2000]
    dataset = Dataset.objects.get(code="WJ-YM-002")
    assert [f.name for f in dataset.fields.all()] == ["id_number"]
    assert client.get(_url("change", dataset.pk)).status_code == 200


def test_admin_form_refuses_fields_disagreeing_with_the_dataset(client, world):
    client.force_login(world.consumer_officer)
    data = _form("WJ-YM-003", world.consumer, sharing="unconditional", fields=[ID_FIELD])
    response = client.post(_url("add"), data)
    assert response.status_code == 200
    assert not Dataset.objects.filter(code="WJ-YM-003").exists()


def test_auditor_sees_everything_and_changes_nothing(client, two):
    world, a, b = two
    client.force_login(world.platform_auditor)
    page = client.get(_url("changelist")).content.decode()
    assert a.code in page and b.code in page
    assert client.get(_url("change", b.pk)).status_code == 200
    assert client.post(_url("change", b.pk), _form(b.code, world.consumer)).status_code == 403
    assert client.get(_url("add")).status_code == 403


def test_publish_action_asks_for_a_reason_then_publishes(client, two):
    world, a, b = two
    client.force_login(world.provider_officer)
    action = {"action": "publish_action", "_selected_action": [a.pk, b.pk]}
    page = client.post(_url("changelist"), action)
    assert page.status_code == 200 and b"reason" in page.content
    response = client.post(_url("changelist"), {**action, "apply": "1", "reason": "首次发布"})
    assert response.status_code == 302
    assert DatasetVersion.objects.get().dataset == a  # b was never in the officer's queryset
    assert Dataset.objects.get(pk=b.pk).status == "draft"


def test_import_page_shows_errors_and_stores_nothing(client, world):
    client.force_login(world.provider_officer)
    bad = xlsx([dataset_row(sharing="部分共享")], field_rows())
    upload = io.BytesIO(bad)
    upload.name = "list.xlsx"
    page = client.post(
        reverse("admin:catalog_dataset_import"), {"department": world.provider.pk, "file": upload}
    )
    assert page.status_code == 200 and b"import-errors" in page.content
    assert "部分共享" in page.content.decode()
    assert not Dataset.objects.filter(code="GA-HJ-010").exists()


def test_import_page_imports_a_good_file(client, world):
    client.force_login(world.provider_officer)
    upload = io.BytesIO(good_xlsx())
    upload.name = "list.xlsx"
    response = client.post(
        reverse("admin:catalog_dataset_import"),
        {"department": world.provider.pk, "file": upload, "publish": "on", "reason": "年度"},
    )
    assert response.status_code == 302
    assert Dataset.objects.get(code="GA-HJ-010").status == "published"


def test_import_page_refuses_another_department(client, world):
    client.force_login(world.provider_officer)
    upload = io.BytesIO(good_xlsx())
    upload.name = "list.xlsx"
    page = client.post(
        reverse("admin:catalog_dataset_import"), {"department": world.consumer.pk, "file": upload}
    )
    assert page.status_code == 200  # invalid choice
    assert not Dataset.objects.filter(code="GA-HJ-010").exists()


def test_export_action_returns_the_published_list(client, two):
    world, a, b = two
    services.dataset_publish(dataset=a, by=world.provider_officer, reason="首次")
    client.force_login(world.provider_officer)
    response = client.post(
        _url("changelist"), {"action": "export_xlsx_action", "_selected_action": [a.pk]}
    )
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    assert [r[0] for r in workbook["数据集"].iter_rows(min_row=2, values_only=True)] == [a.code]


def test_versions_are_read_only_and_isolated(client, two):
    world, a, b = two
    version = services.dataset_publish(dataset=b, by=world.consumer_officer, reason="首次")
    client.force_login(world.provider_officer)
    url = reverse("admin:catalog_datasetversion_change", args=[version.pk])
    assert client.get(url).status_code == 302
    client.force_login(world.consumer_officer)
    assert client.get(url).status_code == 200
    assert client.post(url, {}).status_code == 403


def test_demands_are_seen_by_both_sides_and_answered_by_the_provider(client, world):
    demand = services.demand_create(
        by=world.consumer_officer, requester=world.consumer, provider=world.provider,
        title="需要户籍迁移数据", description="用于疫苗接种通知",
    )  # fmt: skip
    url = reverse("admin:catalog_demand_change", args=[demand.pk])
    client.force_login(world.outsider_officer)
    assert client.get(url).status_code == 302
    client.force_login(world.consumer_officer)
    assert client.get(url).status_code == 200
    assert client.post(url, {"answer": "x", "status": "closed"}).status_code == 403
    client.force_login(world.provider_officer)
    response = client.post(url, {"answer": "已纳入下季度计划", "status": "answered"})
    assert response.status_code == 302
    demand.refresh_from_db()
    assert (demand.status, demand.answered_by) == (Demand.Status.ANSWERED, world.provider_officer)


def _existing(dataset):
    rows = []
    for field in dataset.fields.all():
        rows.append(
            {"id": field.pk, "dataset": dataset.pk, "position": field.position, "name": field.name,
             "label": field.label, "data_type": field.data_type, "sensitivity": field.sensitivity,
             "sharing_type": field.sharing_type, "masking": field.masking,
             "legal_basis": field.legal_basis, "conditions": "", "enum_values": "[]"}
        )  # fmt: skip
    return rows


def test_officer_edits_and_removes_fields_of_a_published_dataset_in_the_admin(client, two):
    world, a, b = two
    services.dataset_publish(dataset=a, by=world.provider_officer, reason="首次")
    client.force_login(world.provider_officer)
    assert b"fields-TOTAL_FORMS" in client.get(_url("change", a.pk)).content
    rows = _existing(a)
    rows[0]["label"] = "身份证号"
    rows[1]["DELETE"] = "on"
    data = _form(a.code, world.provider, fields=rows, initial=len(rows))
    data["name"] = "户籍迁移信息"
    response = client.post(_url("change", a.pk), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    a.refresh_from_db()
    assert a.has_unpublished_changes
    assert a.fields.get(name="id_number").label == "身份证号"
    assert a.fields.get(name="district").pending_removal  # gone at the next publication


def test_import_page_is_for_officers_only(client, world):
    client.force_login(world.provider_officer)
    assert client.get(reverse("admin:catalog_dataset_import")).status_code == 200
    client.force_login(world.platform_auditor)
    assert client.get(reverse("admin:catalog_dataset_import")).status_code == 403


def test_admin_speaks_chinese_with_the_shipped_catalogue(client, two):
    from tests.factories import UserFactory

    world, a, b = two
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(_url("changelist"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert a.code in page and b.code in page
    assert "共享责任清单" in page and "导入共享责任清单" in page


def _select_options(page: str, name: str) -> list[str]:
    """The labels of a <select name=...>'s options, without the empty one."""
    import re

    found = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert found, f"no select {name}"
    return [label for value, label in re.findall(r'<option value="([^"]*)"[^>]*>([^<]*)<', found[1])
            if value]  # fmt: skip


def test_demand_add_form_offers_no_accounts_and_only_choosable_departments(client, world):
    from django.contrib.auth import get_user_model

    get_user_model().objects.get_or_create(username="AnonymousUser")  # guardian's, as deployed
    client.force_login(world.consumer_officer)
    page = client.get(reverse("admin:catalog_demand_add")).content.decode()
    assert 'name="created_by"' not in page and 'name="answered_by"' not in page
    for username in ("AnonymousUser", "platform-auditor", world.provider_officer.username):
        assert username not in page
    assert _select_options(page, "requester") == [str(world.consumer)]
    providers = _select_options(page, "provider")
    assert str(world.consumer) not in providers
    assert {str(world.provider), str(world.outsider)} <= set(providers)
    # The datasets are searched (test_demand_dataset_search), not listed.
    assert _select_options(page, "dataset") == []


def test_demand_added_in_the_admin_is_created_by_the_officer(client, world):
    client.force_login(world.consumer_officer)
    response = client.post(
        reverse("admin:catalog_demand_add"),
        {"requester": world.consumer.pk, "provider": world.provider.pk, "dataset": "",
         "title": "需要户籍迁移数据", "description": "用于疫苗接种通知", "fields_wanted": "",
         "legal_basis": "", "created_by": world.provider_officer.pk},
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    demand = Demand.objects.get()
    assert (demand.requester, demand.created_by) == (world.consumer, world.consumer_officer)


def test_demand_cannot_be_addressed_to_the_officers_own_department(client, world):
    client.force_login(world.consumer_officer)
    response = client.post(
        reverse("admin:catalog_demand_add"),
        {"requester": world.consumer.pk, "provider": world.consumer.pk, "title": "t",
         "description": "d"},
    )  # fmt: skip
    assert response.status_code == 200  # the form shows the invalid choice
    assert not Demand.objects.exists()


def _import_upload(client, department, content: bytes, name: str):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(
        reverse("admin:catalog_dataset_import"), {"department": department.pk, "file": upload}
    )


@pytest.mark.parametrize("action", ["export_xlsx_action", "export_csv_action"])
def test_reimporting_an_unchanged_export_changes_nothing(client, world, action):
    """As an officer does it: fields added with "Add another field", positions left as
    offered, multi-line text from a browser (CRLF), published, exported, imported back."""
    from django.contrib.messages import get_messages

    client.force_login(world.consumer_officer)
    name_field = {**ID_FIELD, "name": "name", "label": "姓名", "data_type": "string",
                  "masking": "name", "conditions": "仅限核验\r\n不得留存"}  # fmt: skip
    data = _form("WJ-YM-009", world.consumer, fields=[ID_FIELD, name_field])
    data["summary"] = "接种记录\r\n按日更新"
    assert client.post(_url("add"), data).status_code == 302
    dataset = Dataset.objects.get(code="WJ-YM-009")
    services.dataset_publish(dataset=dataset, by=world.consumer_officer, reason="首次")
    dataset.refresh_from_db()
    before = (dataset.updated_at, list(dataset.fields.values_list("name", "position")))
    exported = client.post(_url("changelist"), {"action": action, "_selected_action": [dataset.pk]})
    extension = "xlsx" if action == "export_xlsx_action" else "csv"
    list(get_messages(client.get(_url("changelist")).wsgi_request))  # drop older messages
    response = _import_upload(client, world.consumer, exported.content, f"list.{extension}")
    assert response.status_code == 302, response.content.decode()[:2000]
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("0 updated" in m and "1 unchanged" in m for m in shown), shown
    dataset.refresh_from_db()
    after = (dataset.updated_at, list(dataset.fields.values_list("name", "position")))
    assert after == before and not dataset.has_unpublished_changes


def test_new_field_rows_left_without_a_position_keep_their_row_order(client, world):
    client.force_login(world.consumer_officer)
    name_field = {**ID_FIELD, "name": "name", "label": "姓名", "data_type": "string",
                  "masking": "name", "position": ""}  # fmt: skip
    page = client.get(_url("add")).content.decode()
    assert 'name="fields-__prefix__-position" value="0"' not in page  # offered empty
    data = _form("WJ-YM-010", world.consumer, fields=[name_field, {**ID_FIELD, "position": ""}])
    assert client.post(_url("add"), data).status_code == 302
    dataset = Dataset.objects.get(code="WJ-YM-010")
    assert list(dataset.fields.values_list("name", "position")) == [("name", 0), ("id_number", 1)]


def test_officers_list_filters_offer_only_the_departments_of_their_rows(client, two):
    world, a, b = two
    demand = services.demand_create(
        by=world.consumer_officer, requester=world.consumer, provider=world.provider,
        title="需要户籍迁移数据", description="用于疫苗接种通知",
    )  # fmt: skip
    services.dataset_publish(dataset=a, by=world.provider_officer, reason="首次")
    client.force_login(world.provider_officer)
    for name in ("dataset", "datasetversion"):
        page = client.get(reverse(f"admin:catalog_{name}_changelist")).content.decode()
        assert a.code in page
        assert world.consumer.name not in page and world.outsider.name not in page
    page = client.get(reverse("admin:catalog_demand_changelist")).content.decode()
    assert demand.title in page and world.outsider.name not in page


def test_export_file_is_named_in_local_time(client, two):
    import datetime as dt

    import time_machine

    world, a, b = two
    services.dataset_publish(dataset=a, by=world.provider_officer, reason="首次")
    client.force_login(world.provider_officer)
    with time_machine.travel(dt.datetime(2026, 11, 26, 5, 0, tzinfo=dt.UTC), tick=False):
        response = client.post(
            _url("changelist"), {"action": "export_csv_action", "_selected_action": [a.pk]}
        )
    assert "responsibility-list-20261126-1300.csv" in response["Content-Disposition"]
