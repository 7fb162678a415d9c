"""The admin home page's to-do list: what waits for each person, linked to the list of it, in
a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.common import clock
from apps.objections.models import Objection
from apps.sharing.models import DataRequest
from tests.sharing.conftest import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_monday")]
INDEX = "admin:index"


def _worklist(client) -> list:
    return client.get(reverse(INDEX)).context["worklist"]


def _labels(items) -> dict[str, tuple[int, int]]:
    return {item.label: (item.count, item.urgent) for item in items}


def test_the_provider_sees_requests_to_answer_and_which_are_overdue(client, sw):
    late = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    DataRequest.objects.filter(pk=late.pk).update(due_by=clock.today() - dt.timedelta(days=1))
    submit(sw.dataset, sw.outsider, sw.outsider_officer, ["name"])
    client.force_login(sw.provider_officer)
    items = _worklist(client)
    assert _labels(items)["Data requests to answer"] == (2, 1)
    page = client.get(reverse(INDEX)).text
    assert "?direction=incoming&amp;status__exact=submitted" in page and "1 overdue" in page


def test_the_requester_sees_its_pending_requests_and_grants_about_to_end(client, sw):
    from apps.sharing.services import request_approve

    submit(sw.vaccination, sw.outsider, sw.outsider_officer, ["phone"])
    granted = submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"], days=10)
    request_approve(request=granted, by=sw.provider_officer)
    client.force_login(sw.outsider_officer)
    labels = _labels(_worklist(client))
    assert labels["Our requests awaiting an answer"] == (1, 0)
    assert labels["Grants we hold ending within 14 days"] == (1, 0)
    assert labels["Unread notifications"] == (1, 0)  # the approval


def test_objections_to_answer_are_listed_for_the_provider(client, sw):
    now = clock.now()
    Objection.objects.create(dataset=sw.dataset, consumer=sw.consumer, record_key="k",
                             description="错误", due_by=clock.today(), created_at=now,
                             updated_at=now)  # fmt: skip
    client.force_login(sw.provider_officer)
    assert _labels(_worklist(client))["Data-quality objections to answer"] == (1, 0)


def test_nothing_waiting_says_so_and_lists_nothing(client, sw):
    client.force_login(sw.outsider_officer)
    response = client.get(reverse(INDEX))
    assert response.context["worklist"] == []
    assert "Nothing waits for you." in response.text


def test_auditors_see_recent_alerts_and_no_officer_work(client, sw):
    from apps.audit.models import Alert

    now = clock.now()
    Alert.objects.create(
        kind="denial_burst",
        department=sw.consumer,
        summary="probing",
        window_start=now,
        window_end=now,
        dedupe_key="x",
        created_at=now,
    )
    client.force_login(sw.platform_auditor)
    assert _labels(_worklist(client)) == {"Anomaly alerts in the last 7 days": (1, 0)}


def test_the_home_page_costs_the_same_queries_however_much_waits(client, sw):
    client.force_login(sw.provider_officer)
    with CaptureQueriesContext(connection) as empty:
        client.get(reverse(INDEX))
    for _ in range(3):
        late = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
        DataRequest.objects.filter(pk=late.pk).update(status="withdrawn")
    submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    with CaptureQueriesContext(connection) as busy:
        client.get(reverse(INDEX))
    assert len(busy) == len(empty)
    assert Objection.objects.count() == 0


def test_the_grants_ending_link_lists_exactly_the_grants_counted(client, sw):
    from apps.sharing.services import request_approve

    for days in (10, 100):  # one ends within 14 days, one does not
        request_approve(
            request=submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"], days=days),
            by=sw.provider_officer,
        )
    client.force_login(sw.outsider_officer)
    [item] = [i for i in _worklist(client) if i.label.startswith("Grants we hold ending")]
    listed = client.get(item.url).context["cl"].result_count
    assert item.count == listed == 1
