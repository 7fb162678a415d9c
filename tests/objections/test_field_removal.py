"""An objection about a field the provider later removes from the list: the objection keeps the
field (its page, its API output, the audit events of its answer), and its page links related
objects only for viewers who may open them."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from apps.audit.models import AuditEvent
from apps.catalog import services as catalog
from apps.catalog.models import Field
from apps.objections.models import ObjectionField
from apps.objections.services import objection_answer
from tests.objections.conftest import report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday")]

REASON = "姓名改由户籍系统提供"


def _remove_name(ow):
    field = Field.objects.select_related("dataset").get(dataset=ow.dataset, name="name")
    catalog.field_remove(field=field, by=ow.provider_officer)
    return catalog.dataset_publish(dataset=ow.dataset, by=ow.provider_officer, reason=REASON)


def _mask(objection) -> str:
    return ObjectionField.objects.get(objection=objection).mask


def _page(client, user, objection) -> str:
    client.force_login(user)
    response = client.get(reverse("admin:objections_objection_change", args=[objection.pk]))
    assert response.status_code == 200
    return response.text


def test_an_objection_keeps_a_field_removed_from_the_list(client, ow):
    objection = report(ow)
    version = _remove_name(ow)

    item = ObjectionField.objects.get(objection=objection)
    assert (item.field_id, item.field_name, item.field_label) == (None, "name", "姓名")
    removed_on = formats.localize(timezone.template_localtime(version.published_at))
    for user in (ow.provider_officer, ow.consumer_officer):
        page = _page(client, user, objection)
        assert "<p>name</p>" in page and "<p>姓名</p>" in page
        assert f"Removed on {removed_on}: {REASON}" in page

    client.force_login(ow.consumer_officer)
    response = client.get(f"/api/v1/objections/{objection.pk}/")
    assert response.status_code == 200 and response.json()["fields"] == ["name"]


def test_an_objection_on_a_removed_field_can_still_be_answered(client, ow):
    objection = report(ow)
    _remove_name(ow)
    objection_answer(
        objection=objection, outcome="confirmed", answer="已核实，登记无误", by=ow.provider_officer
    )
    event = AuditEvent.objects.filter(action="objection.answer").latest("pk")
    assert json.loads(event.body)["fields"] == {"name": _mask(objection)}
    client.force_login(ow.provider_officer)
    answer_page = reverse("admin:objections_objection_answer", args=[objection.pk])
    assert client.get(answer_page).status_code == 302  # answered: back to its page


def test_the_answer_page_names_a_removed_field(client, ow):
    objection = report(ow)
    _remove_name(ow)
    client.force_login(ow.provider_officer)
    page = client.get(reverse("admin:objections_objection_answer", args=[objection.pk])).text
    assert "<dt>Fields concerned</dt><dd>name</dd>" in page


@pytest.mark.parametrize("removed", [False, True])
def test_the_objection_page_costs_the_same_queries_with_a_removed_field(
    client, ow, removed, django_assert_num_queries
):
    objection = report(ow, fields=["name", "mobile"])
    if removed:
        _remove_name(ow)
    client.force_login(ow.provider_officer)
    url = reverse("admin:objections_objection_change", args=[objection.pk])
    client.get(url)  # Django's caches (content types) warm, as on a live server
    with django_assert_num_queries(29):
        assert client.get(url).status_code == 200


def test_the_objection_page_links_the_reporter_only_for_viewers_who_may_open_it(client, ow):
    objection = report(ow)
    department = reverse("admin:departments_department_change", args=[ow.consumer.pk])
    page = _page(client, ow.provider_officer, objection)
    assert ow.consumer.name in page and ow.consumer_officer.username in page
    assert department not in page and "/admin/auth/user/" not in page
    page = _page(client, ow.provider_auditor, objection)
    assert f'href="{department}"' in page
