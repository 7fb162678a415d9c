"""Charts and top lists: today is always on the x axis, departments, datasets and fields are
named, an empty period says so, and the page costs the same queries whatever it shows."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.audit import charts
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db
STATS = "/admin/audit/auditevent/stats/"


@pytest.mark.parametrize("count", [1, 7, 29, 30, 31])
def test_the_last_day_is_always_labelled(count):
    assert charts.day_labels(count, count // 8)[-1] == count - 1


def test_the_line_chart_labels_today():
    today = dt.date(2026, 11, 26)
    days = [today - dt.timedelta(days=29 - i) for i in range(30)]
    svg = charts.line_chart(days=days, series={"a": [1] * 30}, title="t")
    assert ">11-26</text>" in svg


def test_charts_and_top_lists_name_departments_datasets_and_fields(client, world):
    record_read(world)
    client.force_login(world.platform_auditor)
    content = client.get(STATS).content.decode()
    assert f"{world.consumer.name} ({world.consumer.code})" in content
    assert f"{world.provider.name} ({world.provider.code})" in content
    assert "人口基本信息 (GA-RK-001)" in content
    assert "姓名 (GA-RK-001.name)" in content
    assert f">{timezone.localdate():%m-%d}</text>" in content


def test_an_empty_period_says_there_was_nothing(client, world):
    client.force_login(world.outsider_officer)
    content = client.get(STATS).content.decode()
    assert content.count("No reads in the last 30 days.") == 4
    assert "No denied requests in the last 30 days." in content
    assert 'role="img"' not in content


def test_the_charts_page_costs_the_same_queries_however_much_was_read(
    client, world, django_assert_num_queries
):
    from tests.factories import DepartmentFactory

    record_read(world)
    client.force_login(world.platform_auditor)
    with CaptureQueriesContext(connection) as little:
        client.get(STATS)
    for i in range(8):
        consumer = DepartmentFactory(code=f"C{i}", name=f"部门{i}")
        record_read(world, consumer=consumer, outcome="denied" if i % 2 else "allowed")
    with django_assert_num_queries(len(little)):
        client.get(STATS)
