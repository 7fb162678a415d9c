"""The demand list (需求清单) reaches people: the asked department is told and finds its open
demands on its to-do list; the requesting department is told of every answer; the answer form
offers only what the service honours, and a closed demand stays closed."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from apps.audit.models import AuditEvent
from apps.catalog import services
from apps.catalog.models import Demand
from apps.sharing.models import Notification
from tests.factories import officer_of

pytestmark = pytest.mark.django_db


def _file(world, title="需要户籍迁移数据", dataset=None):
    return services.demand_create(
        by=world.consumer_officer, requester=world.consumer, provider=world.provider,
        title=title, description="用于疫苗接种通知", dataset=dataset,
    )  # fmt: skip


def _change_url(demand):
    return reverse("admin:catalog_demand_change", args=[demand.pk])


def _notified(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user))


def _actions(demand) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            action__startswith="demand.", body__contains=f'"target":"demand:{demand.pk}"'
        )
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_filing_a_demand_notifies_every_officer_of_the_asked_department_only(world):
    colleague = officer_of(world.provider, username="officer-ga-2")
    demand = _file(world)
    for officer in (world.provider_officer, colleague):
        [note] = _notified(officer)
        assert note.link == _change_url(demand)
        assert demand.title in note.subject_text and world.consumer.name in note.subject_text
    for user in (world.consumer_officer, world.outsider_officer, world.provider_auditor):
        assert _notified(user) == []


def test_the_notification_is_shown_in_its_readers_language(world):
    _file(world)
    [note] = _notified(world.provider_officer)
    assert note.message["subject"][0] == "New demand #%(id)s from %(requester)s: %(title)s"
    with translation.override("en"):
        assert note.subject_text.startswith("New demand #")


def test_an_answer_notifies_the_requesting_department_and_is_audited(world):
    demand = _file(world)
    services.demand_answer(demand=demand, by=world.provider_officer, answer="下季度提供")
    [note] = _notified(world.consumer_officer)
    assert note.link == _change_url(demand)
    assert "下季度提供" in note.body_text and world.provider.name in note.body_text
    assert note.subject_text.startswith(f"Demand #{demand.pk} answered:")
    assert _actions(demand) == ["demand.submit", "demand.answer"]


def test_answering_and_closing_says_closed_and_is_audited_as_closing(world):
    demand = _file(world)
    services.demand_answer(demand=demand, by=world.provider_officer, answer="已提供", close=True)
    demand.refresh_from_db()
    assert demand.status == Demand.Status.CLOSED
    [note] = _notified(world.consumer_officer)
    assert note.subject_text.startswith(f"Demand #{demand.pk} answered and closed:")
    assert _actions(demand) == ["demand.submit", "demand.close"]
    event = AuditEvent.objects.get(action="demand.close")
    assert event.data["details"]["answer"] == "已提供"
    assert (event.data["consumer_code"], event.data["provider_code"]) == ("WJ", "GA")


def test_an_answered_demand_may_be_answered_again_and_a_closed_one_never(world):
    demand = _file(world)
    services.demand_answer(demand=demand, by=world.provider_officer, answer="计划中")
    services.demand_answer(demand=demand, by=world.provider_officer, answer="已排期")
    demand.refresh_from_db()
    assert (demand.status, demand.answer) == (Demand.Status.ANSWERED, "已排期")
    services.demand_answer(demand=demand, by=world.provider_officer, answer="已提供", close=True)
    with pytest.raises(services.DemandClosed):
        services.demand_answer(demand=demand, by=world.provider_officer, answer="重新打开")
    demand.refresh_from_db()
    assert (demand.status, demand.answer) == (Demand.Status.CLOSED, "已提供")
    assert len(_notified(world.consumer_officer)) == 3  # the refused one told nobody


def test_a_title_of_the_longest_length_still_fits_the_notifications_subject(world):
    title = "需" * Demand._meta.get_field("title").max_length
    demand = _file(world, title=title)
    services.demand_answer(demand=demand, by=world.provider_officer, answer="好", close=True)
    [note] = _notified(world.consumer_officer)
    assert title in note.body_text and len(note.subject_text) <= 200


def test_an_empty_answer_is_refused(world):
    demand = _file(world)
    with pytest.raises(ValidationError):
        services.demand_answer(demand=demand, by=world.provider_officer, answer="  ")
    assert _notified(world.consumer_officer) == []


# The admin.


def _select_names(page: str) -> set[str]:
    import re

    return set(re.findall(r'<select name="([^"]+)"', page))


def test_the_answer_form_offers_an_answer_and_a_close_box_not_a_status_select(client, world):
    demand = _file(world)
    client.force_login(world.provider_officer)
    page = client.get(_change_url(demand)).content.decode()
    assert 'name="answer"' in page and 'name="close"' in page and 'type="checkbox"' in page
    assert "status" not in _select_names(page)


@pytest.mark.parametrize(("close", "status"), [("", "answered"), ("on", "closed")])
def test_the_answer_form_saves_exactly_what_was_chosen(client, world, close, status):
    demand = _file(world)
    client.force_login(world.provider_officer)
    data = {"answer": "已纳入下季度计划", "status": "open"}  # a forged status is ignored
    if close:
        data["close"] = close
    response = client.post(_change_url(demand), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    demand.refresh_from_db()
    assert (demand.status, demand.answer) == (status, "已纳入下季度计划")


def test_a_closed_demand_is_shown_read_only_and_cannot_be_reopened(client, world):
    demand = _file(world)
    services.demand_answer(demand=demand, by=world.provider_officer, answer="已提供", close=True)
    client.force_login(world.provider_officer)
    page = client.get(_change_url(demand)).content.decode()
    assert 'name="answer"' not in page and 'name="close"' not in page
    response = client.post(_change_url(demand), {"answer": "重新打开"})
    assert response.status_code == 302
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("closed" in m for m in messages), messages
    demand.refresh_from_db()
    assert (demand.status, demand.answer) == (Demand.Status.CLOSED, "已提供")


def test_the_requesting_department_still_only_reads_the_demand(client, world):
    demand = _file(world)
    client.force_login(world.consumer_officer)
    page = client.get(_change_url(demand)).content.decode()
    assert 'name="close"' not in page
    assert client.post(_change_url(demand), {"answer": "x", "close": "on"}).status_code == 403


def test_a_demand_filed_in_the_admin_notifies_the_asked_department(client, world):
    client.force_login(world.consumer_officer)
    response = client.post(
        reverse("admin:catalog_demand_add"),
        {"requester": world.consumer.pk, "provider": world.provider.pk, "dataset": "",
         "title": "需要户籍迁移数据", "description": "用于疫苗接种通知", "fields_wanted": "",
         "legal_basis": ""},
    )  # fmt: skip
    assert response.status_code == 302
    assert len(_notified(world.provider_officer)) == 1


# The to-do list.


def _worklist(client) -> dict:
    items = client.get(reverse("admin:index")).context["worklist"]
    return {item.label: item for item in items}


def test_open_demands_are_on_the_asked_departments_to_do_list_linking_to_exactly_them(
    client, world
):
    first, second = _file(world, "需求一"), _file(world, "需求二")
    answered = _file(world, "已答复的需求")
    services.demand_answer(demand=answered, by=world.provider_officer, answer="已答复")
    services.demand_create(
        by=world.outsider_officer, requester=world.outsider, provider=world.consumer,
        title="问卫健的需求", description="不是公安的事",
    )  # fmt: skip
    client.force_login(world.provider_officer)
    item = _worklist(client)["Demands to answer"]
    listed = client.get(item.url).context["cl"]
    assert item.count == listed.result_count == 2
    assert {d.pk for d in listed.result_list} == {first.pk, second.pk}


def test_the_requesting_department_has_no_demand_to_answer(client, world):
    _file(world)
    client.force_login(world.consumer_officer)
    assert "Demands to answer" not in _worklist(client)


def test_the_demand_to_do_item_costs_the_same_queries_however_many_demands_wait(client, world):
    client.force_login(world.provider_officer)
    _file(world, "第一个")
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("admin:index"))
    for n in range(3):
        _file(world, f"需求{n}")
    with CaptureQueriesContext(connection) as four:
        assert _worklist(client)["Demands to answer"].count == 4
    assert len(four) == len(one)


def test_the_demand_list_costs_the_same_queries_however_many_rows(client, world):
    _file(world, "第一个")
    client.force_login(world.provider_officer)
    url = reverse("admin:catalog_demand_changelist") + "?direction=incoming&status__exact=open"
    with CaptureQueriesContext(connection) as one:
        client.get(url)
    for n in range(4):
        _file(world, f"需求{n}")
    with CaptureQueriesContext(connection) as five:
        assert client.get(url).context["cl"].result_count == 5
    assert len(five) == len(one)
