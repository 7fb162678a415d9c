"""The admin per role: the provider's queue with due dates and the answer form, the reporter's
list with submission and withdrawal, auditors read-only, other departments see nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from apps.objections.models import Objection
from tests.objections.conftest import KEY, MONDAY, report

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday")]

CHANGELIST = reverse("admin:objections_objection_changelist")
ADD = reverse("admin:objections_objection_add")


def _answer_url(pk: int) -> str:
    return reverse("admin:objections_objection_answer", args=[pk])


def _withdraw_url(pk: int) -> str:
    return reverse("admin:objections_objection_withdraw", args=[pk])


@pytest.fixture
def late(ow):
    objection = report(ow)
    Objection.objects.filter(pk=objection.pk).update(due_by=MONDAY.date() - dt.timedelta(days=1))
    return objection


def _page(client, user, url: str = CHANGELIST) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_provider_officer_sees_the_incoming_objection_overdue_with_an_answer_link(
    client, ow, late
):
    page = _page(client, ow.provider_officer)
    assert f"/objections/objection/{late.pk}/change/" in page
    assert "OVERDUE" in page and "2026-03-01" in page
    assert _answer_url(late.pk) in page and _withdraw_url(late.pk) not in page
    change = _page(
        client, ow.provider_officer, reverse("admin:objections_objection_change", args=[late.pk])
    )
    assert _answer_url(late.pk) in change and KEY in change and "姓名与户籍登记不一致" in change
    assert f"/objection/{late.pk}/history/" not in change  # Django's history is always empty


def test_the_reporter_sees_its_objection_with_a_withdraw_link_only(client, ow, late):
    page = _page(client, ow.consumer_officer)
    assert f"/objections/objection/{late.pk}/change/" in page
    assert _withdraw_url(late.pk) in page and _answer_url(late.pk) not in page
    assert ADD in page


@pytest.mark.parametrize("who", ["provider_auditor", "platform_auditor"])
def test_auditors_see_objections_without_any_action(client, ow, late, who):
    page = _page(client, getattr(ow, who))
    assert f"/objections/objection/{late.pk}/change/" in page
    assert _answer_url(late.pk) not in page and _withdraw_url(late.pk) not in page
    assert ADD not in page
    assert client.get(ADD).status_code == 403
    assert client.get(_answer_url(late.pk)).status_code == 403
    assert client.get(_withdraw_url(late.pk)).status_code == 403


def test_another_department_sees_nothing_and_reaches_nothing(client, ow, late):
    page = _page(client, ow.outsider_officer)
    assert f"/objections/objection/{late.pk}/change/" not in page
    change = reverse("admin:objections_objection_change", args=[late.pk])
    assert client.get(change).status_code == 302  # not in its queryset: back to the index
    assert client.get(_answer_url(late.pk)).status_code == 404
    assert client.get(_withdraw_url(late.pk)).status_code == 404


def test_the_reporter_cannot_answer_nor_the_provider_withdraw(client, ow, late):
    client.force_login(ow.consumer_officer)
    assert (
        client.post(_answer_url(late.pk), {"outcome": "confirmed", "answer": "x"}).status_code
        == 403
    )
    client.force_login(ow.provider_officer)
    assert client.post(_withdraw_url(late.pk), {"reason": ""}).status_code == 403
    late.refresh_from_db()
    assert late.status == "open"


def test_the_provider_officer_answers_through_the_form(client, ow, late):
    client.force_login(ow.provider_officer)
    url = _answer_url(late.pk)
    form = client.get(url).content.decode()
    assert KEY in form and "张叁" in form and "Confirmed as correct" in form
    missing = client.post(url, {"outcome": "corrected", "answer": ""})
    assert missing.status_code == 200 and "This field is required" in missing.content.decode()
    assert (
        client.post(url, {"outcome": "corrected", "answer": "已按户籍底册更正"}).status_code == 302
    )
    late.refresh_from_db()
    assert (late.status, late.outcome, late.answered_by) == (
        "answered",
        "corrected",
        ow.provider_officer,
    )
    assert _answer_url(late.pk) not in _page(client, ow.provider_officer)
    # The answered objection's action pages say so at once instead of offering a form.
    again = client.get(url, follow=True)
    assert again.redirect_chain[-1][0].endswith(f"/objections/objection/{late.pk}/change/")
    assert "can no longer be changed" in again.content.decode()


def test_the_reporter_withdraws_through_the_form(client, ow, late):
    client.force_login(ow.consumer_officer)
    assert client.post(_withdraw_url(late.pk), {"reason": "误报"}).status_code == 302
    late.refresh_from_db()
    assert late.status == "withdrawn"
    closed = client.post(_withdraw_url(late.pk), {"reason": ""}, follow=True)
    assert "can no longer be changed" in closed.content.decode()  # now closed, said at once


def test_an_officer_reports_in_two_steps_choosing_among_readable_fields(client, ow):
    client.force_login(ow.consumer_officer)
    first = client.get(ADD).content.decode()
    target = f"{ow.consumer.pk}:{ow.dataset.pk}"
    assert f'value="{target}"' in first and "GA-RK-001" in first
    second = client.get(ADD, {"target": target}).content.decode()
    for readable in ("id_number", "name", "gender", "birth_date", "mobile", "district"):
        assert f'value="{readable}"' in second
    assert 'value="address"' not in second and 'value="religion"' not in second
    body = {
        "target": target,
        "key": "440106199001019999",
        "fields": ["name"],
        "description": "姓名错",
    }
    unknown = client.post(ADD, body)
    assert unknown.status_code == 200 and "No published record" in unknown.content.decode()
    created = client.post(ADD, {**body, "key": KEY, "proposed_value": "张叁"})
    assert created.status_code == 302
    objection = Objection.objects.get()
    assert created["Location"] == reverse("admin:objections_objection_change", args=[objection.pk])
    assert (objection.consumer, objection.record_key) == (ow.consumer, KEY)
    assert [i.field.name for i in objection.items.all()] == ["name"]


def test_a_target_the_officer_may_not_use_brings_back_the_first_step(client, ow):
    client.force_login(ow.outsider_officer)
    page = client.get(ADD, {"target": f"{ow.consumer.pk}:{ow.dataset.pk}"}).content.decode()
    assert "reads no other department" in page  # MZ reads no key in clear; WJ is not its own
    client.post(
        ADD,
        {
            "target": f"{ow.consumer.pk}:{ow.dataset.pk}",
            "key": KEY,
            "fields": ["name"],
            "description": "x",
        },
    )
    assert not Objection.objects.exists()


def test_the_direction_filter_splits_objections_to_our_data_from_those_we_reported(
    client, ow, late
):
    # The provider's officer receives it; the reporter's officer sent it.
    incoming = _page(client, ow.provider_officer, CHANGELIST + "?direction=incoming")
    outgoing = _page(client, ow.provider_officer, CHANGELIST + "?direction=outgoing")
    row = f"/objections/objection/{late.pk}/change/"
    assert row in incoming and row not in outgoing
    with translation.override(settings.LANGUAGE_CODE):  # the objections' own labels
        assert gettext("Incoming (our data)") in incoming
        assert gettext("Outgoing (we reported)") in incoming
    sent = _page(client, ow.consumer_officer, CHANGELIST + "?direction=outgoing")
    assert row in sent
    assert row not in _page(client, ow.consumer_officer, CHANGELIST + "?direction=incoming")
