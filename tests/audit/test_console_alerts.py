"""The console's alerts page: the providers concerned see their alerts, the summary reads in
the reader's language, each alert links to the events behind it, the e-mail's link opens it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from apps.audit.models import Alert
from apps.common import clock
from apps.common.texts import Text
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db
ALERTS = "/admin/audit/auditevent/alerts/"


def burst(world, *, key: str = "k", first=None, last=None, **extra) -> Alert:
    now = clock.now()
    return Alert.objects.create(
        kind=Alert.Kind.DENIAL_BURST,
        department=world.consumer,
        provider_ids=[world.provider.pk],
        summary="10 分钟内对 1 个信息资源的 5 次请求被拒绝",
        message={
            "summary": Text(
                "%(n)d denied requests in %(m)d minutes over %(d)d datasets",
                {"n": 5, "m": 10, "d": 1},
            ).to_json()
        },
        details={"denied": 5, "first_seq": first, "last_seq": last},
        window_start=extra.pop("start", now),
        window_end=extra.pop("end", now),
        dedupe_key=key,
        created_at=now,
        **extra,
    )


def test_a_provider_auditor_sees_alerts_about_its_data(client, world):
    burst(world)
    client.force_login(world.provider_auditor)
    content = client.get(ALERTS).content.decode()
    assert "5 denied requests in 10 minutes over 1 datasets" in content
    assert f"{world.provider.name} ({world.provider.code})" in content


def test_the_summary_is_shown_in_the_readers_language(client, world):
    burst(world)
    client.force_login(world.platform_auditor)
    with translation.override("zh-hans"):
        content = client.get(ALERTS, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "10 分钟内对 1 个信息资源的 5 次请求被拒绝" in content
    content = client.get(ALERTS, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "5 denied requests in 10 minutes over 1 datasets" in content


def test_each_alert_links_to_the_events_behind_it(client, world):
    import datetime as dt

    before = clock.now() - dt.timedelta(seconds=1)
    probes = [
        record_read(world, request_id=f"p{i}", outcome="denied", reason="x") for i in range(3)
    ]
    record_read(world, request_id="allowed")  # in the window but not a denial
    alert = burst(
        world,
        first=probes[0].seq,
        last=probes[-1].seq,
        start=before,
        end=clock.now() + dt.timedelta(seconds=1),
    )
    client.force_login(world.platform_auditor)
    response = client.get(ALERTS)
    [(row, links)] = response.context["rows"]
    assert row.alert == alert
    assert links[0] == (f"#{probes[0].seq}", f"/admin/audit/auditevent/{probes[0].seq}/")
    assert links[1][0] == f"#{probes[-1].seq}"
    label, search = links[-1]
    found = client.get(search).context["events"]
    assert {e.data["request_id"] for e in found} == {"p0", "p1", "p2"}


def test_an_alert_raised_before_links_its_event(client, world):
    event = record_read(world)
    now = clock.now()
    Alert.objects.create(
        kind=Alert.Kind.SENSITIVE_EXPORT,
        department=world.consumer,
        provider=world.provider,
        summary="从 GA-RK-001 导出 20000 行",
        details={"seq": event.seq, "rows": 20000},
        window_start=now,
        window_end=now,
        dedupe_key="old",
        created_at=now,
    )
    client.force_login(world.provider_auditor)
    content = client.get(ALERTS).content.decode()
    assert "从 GA-RK-001 导出 20000 行" in content
    assert f'href="/admin/audit/auditevent/{event.seq}/">#{event.seq}</a>' in content


def test_the_emails_link_shows_that_one_alert(client, world):
    wanted = burst(world, key="a")
    burst(world, key="b")
    client.force_login(world.platform_auditor)
    response = client.get(ALERTS, {"id": wanted.pk})
    assert [row.alert for row, _links in response.context["rows"]] == [wanted]
    for odd in ("x", "1" * 40, "١"):
        assert client.get(ALERTS, {"id": odd}).context["rows"] == []


def test_the_alerts_page_costs_the_same_queries_however_many_alerts(
    client, world, django_assert_num_queries
):
    from tests.factories import DepartmentFactory

    burst(world, key="first")
    client.force_login(world.platform_auditor)
    with CaptureQueriesContext(connection) as one:
        client.get(ALERTS)
    for i in range(10):
        provider = DepartmentFactory(code=f"P{i}", name=f"提供方{i}")
        burst(world, key=f"k{i}", provider=provider)
        Alert.objects.filter(dedupe_key=f"k{i}").update(
            provider_ids=[provider.pk, world.provider.pk]
        )
    with django_assert_num_queries(len(one)):
        response = client.get(ALERTS)
    assert len(response.context["rows"]) == 11
