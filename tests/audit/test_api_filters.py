"""/api/v1/audit/events/ takes the console's filters (one selector for both), refuses what it
does not take instead of ignoring it, and reads a date alone as "until" as that whole day."""

import datetime as dt

import orjson
import pytest
import time_machine
from rest_framework.test import APIClient

from apps.audit.api import EventsApi
from apps.audit.selectors import FILTER_NAMES
from apps.departments.models import Department
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit/events/"
TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def auditor(world) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.platform_auditor)
    return client


@pytest.fixture
def events(world):
    from tests.factories import DepartmentFactory

    rs = DepartmentFactory(code="RS", name="人社厅")
    return {
        "zhang": record_read(world, request_id="zhang", end_user="张三", purpose="低保复核"),
        "li": record_read(world, request_id="li", end_user="李四", fields={"gender": "none"}),
        "rs": record_read(world, request_id="rs", consumer=rs, end_user="王五"),
        "probe": record_read(
            world,
            request_id="probe",
            outcome="denied",
            fields={},
            filters={"fields": "address"},
            reason="x",
            end_user="探测者",
        ),
    }


def request_ids(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["request_id"] for row in response.json()["results"] if row["kind"] == "access"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("end_user=张三", {"zhang"}),
        ("purpose=复核", {"zhang"}),
        ("field=ADDRESS", {"probe"}),
        ("field=name", {"zhang", "rs"}),
        ("department=rs", {"rs"}),
        ("department=RS&end_user=张三", set()),
    ],
)
def test_the_api_filters_like_the_console(auditor, events, query, expected):
    assert request_ids(auditor.get(f"{URL}?{query}")) == expected


def test_the_api_takes_every_filter_of_the_console():
    assert set(FILTER_NAMES) <= EventsApi.parameter_names()


@pytest.mark.parametrize("query", ["enduser=张三", "department=RS&dept=RS", "format=json"])
def test_an_unknown_parameter_is_a_400_naming_it(auditor, events, query):
    response = auditor.get(f"{URL}?{query}")
    assert response.status_code == 400
    unknown = query.split("&")[-1].split("=")[0]
    assert unknown in response.json()["errors"]


def test_a_parameter_given_twice_is_a_400(auditor, events):
    response = auditor.get(f"{URL}?department=RS&department=WJ")
    assert response.status_code == 400 and "department" in response.json()["errors"]


def test_until_a_date_includes_that_whole_day(auditor, world, log_from_the_past):
    with time_machine.travel(dt.datetime(2026, 3, 4, 23, 59, 59, tzinfo=TZ), tick=False):
        record_read(world, request_id="late")
    with time_machine.travel(dt.datetime(2026, 3, 5, 0, 0, 0, tzinfo=TZ), tick=False):
        record_read(world, request_id="next-day")
    got = request_ids(auditor.get(f"{URL}?since=2026-03-04&until=2026-03-04"))
    assert got == {"late"}
    # A date-time is exclusive, as before.
    assert request_ids(auditor.get(f"{URL}?until=2026-03-04T23:59:59%2B08:00")) == set()


def test_the_schema_says_a_date_alone_as_until_is_inclusive(auditor):
    response = auditor.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = orjson.loads(response.content)
    parameters = schema["paths"][URL]["get"]["parameters"]
    until = next(p for p in parameters if p["name"] == "until")
    assert "inclusive" in until["description"] and "2026-11-26" in until["description"]
    assert {p["name"] for p in parameters} >= set(FILTER_NAMES)


def test_an_until_past_the_last_representable_day_is_a_400(auditor, events):
    assert auditor.get("/api/v1/audit/events/?until=9999-12-31").status_code == 400


# --- Codes no department or dataset has, and choices, refused as on every list ----------------


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("consumer=XX-NOPE", {"consumer": ["No department has the code “XX-NOPE”."]}),
        ("provider=nope", {"provider": ["No department has the code “nope”."]}),
        ("department=NOPE&end_user=张三", {"department": ["No department has the code “NOPE”."]}),
        (
            "consumer=X1&provider=NOPE&dataset=D1",
            {
                "consumer": ["No department has the code “X1”."],
                "provider": ["No department has the code “NOPE”."],
            },
        ),
    ],
)
def test_a_code_nothing_has_is_a_400_naming_the_parameter(auditor, events, query, errors):
    response = auditor.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == errors


def test_a_dataset_code_nothing_has_finds_no_event_and_says_nothing_of_drafts(auditor, events):
    # A 400 for unknown dataset codes would tell any caller which draft codes exist.
    response = auditor.get(f"{URL}?dataset=GA-RK-999")
    assert response.status_code == 200 and response.json()["results"] == []


def test_a_departments_old_code_is_refused_and_its_new_one_finds_its_events(auditor, world, events):
    from apps.departments.services import department_code_change

    department_code_change(department=Department.objects.get(code="RS"), code="GD-RS")
    assert auditor.get(f"{URL}?consumer=RS").status_code == 400
    assert request_ids(auditor.get(f"{URL}?consumer=gd-rs")) == {"rs"}


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ("outcome=bogus", {"outcome": ["Unknown value of outcome; use one of: allowed, denied."]}),
        ("kind=x", {"kind": ["Unknown value of kind; use one of: access, admin."]}),
    ],
)
def test_an_unknown_outcome_or_kind_is_worded_as_on_every_list(auditor, events, query, errors):
    # The same problem as the requests' and objections' `status` (apps.api.views.base).
    response = auditor.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response.json() == {
        "type": "https://govdata.example/problems/invalid",
        "title": "Bad Request",
        "status": 400,
        "detail": "The request is invalid.",
        "errors": errors,
        "request_id": response["X-Request-Id"],
    }


def test_outcome_and_kind_still_filter_and_empty_is_no_filter(auditor, events):
    assert request_ids(auditor.get(f"{URL}?outcome=denied&kind=access")) == {"probe"}
    assert request_ids(auditor.get(f"{URL}?outcome=&kind=")) == set(events)


def test_a_bad_cursor_or_date_is_a_list_of_messages_like_every_other(auditor, events):
    cursor = auditor.get(f"{URL}?cursor=nonsense").json()["errors"]
    assert cursor == {"cursor": ["This cursor is not valid."]}
    since = auditor.get(f"{URL}?since=yesterday").json()["errors"]
    assert since == {"since": ["Use an ISO 8601 date or date-time."]}
