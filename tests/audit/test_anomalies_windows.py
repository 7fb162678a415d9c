"""Each anomaly raises one alert, whenever and however often the detectors run: sliding windows
for bulk reads and denial bursts, one alert per off-hours stretch (holiday calendar included)
and per day of surge; alerts name the providers concerned and read in the reader's language."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.utils import translation

from apps.audit.anomalies_calendar import (
    alerts_detect_off_hours,
    alerts_detect_volume,
    off_hours_stretches,
)
from apps.audit.anomalies_email import alerts_notify
from apps.audit.anomalies_windows import alerts_detect_denial_bursts, alerts_detect_sensitive_reads
from apps.audit.models import Alert
from apps.audit.selectors import alerts_visible
from apps.sharing.models import Holiday
from tests.api.conftest import PURPOSE, ROWS, api_world  # noqa: F401 - the API test world fixture
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))
WED = dt.date(2026, 3, 4)  # a Wednesday


def at(day: dt.date, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=TZ)
    return start + dt.timedelta(hours=hour, minutes=minute, seconds=second)


def record_at(world, when: dt.datetime, **overrides):
    with time_machine.travel(when, tick=False):
        return record_read(world, **overrides)


@pytest.fixture
def alerting(settings, log_from_the_past):
    def configure(**thresholds):
        settings.GOVDATA = {**settings.GOVDATA, "AUDIT_ALERTS": thresholds}

    return configure


@pytest.fixture
def sensitive(world):
    for name in ("id_number", "name"):
        field = world.fields[name]
        field.sensitivity = "highly_sensitive"
        field.save(update_fields=["sensitivity"])


# F8: paging out sensitive rows is a bulk read like an export.


def test_paging_through_sensitive_fields_is_flagged_like_an_export(world, sensitive, alerting):
    alerting(EXPORT_MIN_ROWS=10_000)
    for page in range(20):
        record_at(
            world,
            at(WED, 10, 0, page),
            request_id=f"page-{page}",
            row_count=1000,
            fields={"id_number": "none", "name": "name", "gender": "none"},
        )
    [alert] = alerts_detect_sensitive_reads(now=at(WED, 10, 5))
    assert alert.kind == Alert.Kind.SENSITIVE_EXPORT
    assert alert.details["rows"] == 20_000 and alert.details["reads"] == 20
    assert alert.details["fields"] == ["id_number", "name"]
    assert alert.department == world.consumer and alert.provider_ids == [world.provider.pk]
    # The same pages, seen again by later runs: nothing new.
    for minute in (6, 15, 45, 70):
        assert alerts_detect_sensitive_reads(now=at(WED, 10, minute)) == []


def test_reads_without_sensitive_fields_or_under_the_threshold_are_not_flagged(
    world, sensitive, alerting
):
    alerting(EXPORT_MIN_ROWS=10_000)
    for page in range(20):
        record_at(world, at(WED, 10, 0, page), row_count=1000, fields={"gender": "none"})
    record_at(world, at(WED, 10, 1), row_count=9_999, fields={"id_number": "none"})
    assert alerts_detect_sensitive_reads(now=at(WED, 10, 5)) == []


def test_a_second_extraction_after_the_first_window_is_a_second_alert(world, sensitive, alerting):
    alerting(EXPORT_MIN_ROWS=2000)
    for i in range(2):
        record_at(world, at(WED, 10, 0, i), row_count=1000, fields={"id_number": "none"})
    for i in range(2):
        record_at(world, at(WED, 11, 30, i), row_count=1000, fields={"id_number": "none"})
    first = alerts_detect_sensitive_reads(now=at(WED, 10, 10))
    second = alerts_detect_sensitive_reads(now=at(WED, 11, 40))
    assert len(first) == len(second) == 1
    assert first[0].window_start == at(WED, 10) and second[0].window_start == at(WED, 11, 30)


def test_a_real_paged_read_through_the_api_is_flagged(api_world, settings):  # noqa: F811
    settings.GOVDATA = {**settings.GOVDATA, "AUDIT_ALERTS": {"EXPORT_MIN_ROWS": len(ROWS)}}
    field = api_world.base.fields["id_number"]
    field.sensitivity = "highly_sensitive"
    field.save(update_fields=["sensitivity"])
    client = api_world.clients["granted"]
    url = "/api/v1/datasets/GA-RK-001/records/?fields=id_number,gender&page_size=2"
    while url:
        response = client.get(url, **PURPOSE)
        assert response.status_code == 200
        url = response.json()["next"]
    [alert] = alerts_detect_sensitive_reads()
    assert alert.details["rows"] == len(ROWS) and alert.details["fields"] == ["id_number"]


# F9: a burst straddling a run's boundary is caught once; runs by hand raise nothing more.


def test_a_denial_burst_straddling_a_run_is_alerted_once(world, alerting):
    alerting(DENIAL_BURST=20, DENIAL_WINDOW_MINUTES=10)
    for i in range(12):  # the 8 seconds before 10:10, then the seconds after it
        record_at(
            world, at(WED, 10, 9, 52 + i % 8), outcome="denied", reason="x", request_id=f"a{i}"
        )
    for i in range(12):
        record_at(world, at(WED, 10, 10, 3 + i), outcome="denied", reason="x", request_id=f"b{i}")
    assert alerts_detect_denial_bursts(now=at(WED, 10, 10)) == []  # only 12 so far
    [alert] = alerts_detect_denial_bursts(now=at(WED, 10, 20))
    assert alert.details["denied"] == 24
    assert alert.window_start == at(WED, 10, 9, 52)
    for when in (at(WED, 10, 14), at(WED, 10, 21), at(WED, 10, 30), at(WED, 10, 40)):
        assert alerts_detect_denial_bursts(now=when) == []
    assert Alert.objects.filter(kind=Alert.Kind.DENIAL_BURST).count() == 1


def test_a_run_by_hand_between_beats_does_not_alert_the_same_burst_twice(world, alerting):
    alerting(DENIAL_BURST=5)
    for i in range(6):
        record_at(world, at(WED, 10, 1, i), outcome="denied", reason="x")
    assert len(alerts_detect_denial_bursts(now=at(WED, 10, 5))) == 1
    record_at(world, at(WED, 10, 6), outcome="denied", reason="x")  # the same burst goes on
    assert alerts_detect_denial_bursts(now=at(WED, 10, 7)) == []
    assert alerts_detect_denial_bursts(now=at(WED, 10, 10)) == []


def test_denials_spread_thinner_than_the_threshold_raise_nothing(world, alerting):
    alerting(DENIAL_BURST=5, DENIAL_WINDOW_MINUTES=10)
    for i in range(8):  # one every three minutes: at most four in any ten minutes
        record_at(world, at(WED, 10) + dt.timedelta(minutes=3 * i), outcome="denied")
    assert alerts_detect_denial_bursts(now=at(WED, 10, 30)) == []


# F11: the providers whose data was probed or read are on the alert, see it and are mailed.


def test_a_burst_against_a_providers_data_reaches_that_providers_auditors(world, alerting):
    alerting(DENIAL_BURST=5)
    for i in range(5):
        record_at(world, at(WED, 10, 1, i), outcome="denied", reason="x")
    [alert] = alerts_detect_denial_bursts(now=at(WED, 10, 5))
    assert alert.department == world.consumer and alert.provider_ids == [world.provider.pk]
    assert alert in alerts_visible(user=world.provider_auditor)
    assert alerts_notify() == 1
    assert [world.provider_auditor.email] in [m.to for m in mail.outbox]
    # One message per address: no department learns who audits another.
    assert all(len(m.to) == 1 for m in mail.outbox)


def test_an_alert_about_other_departments_is_not_shown_to_an_unconcerned_auditor(world, alerting):
    from tests.factories import auditor_of

    alerting(DENIAL_BURST=5)
    for i in range(5):
        record_at(world, at(WED, 10, 1, i), outcome="denied", reason="x")
    [alert] = alerts_detect_denial_bursts(now=at(WED, 10, 5))
    assert alert not in alerts_visible(user=auditor_of(world.outsider))


# F12: off-hours and volume: one alert per anomaly however often the detector runs.


def test_one_evening_of_reads_raises_one_off_hours_alert(world, alerting):
    alerting(OFF_HOURS_MIN_READS=20)
    for i in range(25):
        record_at(world, at(WED, 21, i // 5, i), request_id=f"n{i}")
    raised = [
        alert
        for minute in range(10, 80, 10)  # every beat run for an hour, and then some
        for alert in alerts_detect_off_hours(now=at(WED, 21) + dt.timedelta(minutes=minute))
    ]
    assert len(raised) == 1
    assert raised[0].details["reads"] == 25 and raised[0].window_start == at(WED, 20, 10)


def test_the_next_off_hours_stretch_is_a_new_alert(world, alerting):
    alerting(OFF_HOURS_MIN_READS=3)
    for i in range(3):
        record_at(world, at(WED, 21, 0, i))
    for i in range(3):
        record_at(world, at(WED + dt.timedelta(days=1), 6, 0, i))  # before work next morning
    assert len(alerts_detect_off_hours(now=at(WED, 21, 10))) == 1
    assert len(alerts_detect_off_hours(now=at(WED + dt.timedelta(days=1), 6, 10))) == 1


def test_a_surge_raises_one_volume_alert_a_day(world, alerting):
    alerting(VOLUME_MIN_READS=10)
    for i in range(12):
        record_at(world, at(WED, 9, 0, i), request_id=f"v{i}")
    raised = [
        alert
        for hour in (9, 10, 11, 14, 20, 23)
        for alert in alerts_detect_volume(now=at(WED, hour, 30))
    ]
    assert len(raised) == 1 and raised[0].details["reads"] == 12
    assert raised[0].provider_ids == [world.provider.pk]


# F13: working hours follow the holiday calendar.


def test_reads_on_a_public_holiday_are_off_hours(world, alerting):
    alerting(OFF_HOURS_MIN_READS=3)
    Holiday.objects.create(date=WED, kind=Holiday.Kind.HOLIDAY, name="调休放假")
    for i in range(3):
        record_at(world, at(WED, 10, 0, i))
    [alert] = alerts_detect_off_hours(now=at(WED, 10, 30))
    assert alert.details["reads"] == 3


def test_reads_on_a_make_up_working_saturday_are_working_hours(world, alerting):
    saturday = dt.date(2026, 3, 7)
    alerting(OFF_HOURS_MIN_READS=3)
    Holiday.objects.create(date=saturday, kind=Holiday.Kind.WORKDAY, name="调休上班")
    for i in range(3):
        record_at(world, at(saturday, 10, 0, i))
    assert alerts_detect_off_hours(now=at(saturday, 10, 30)) == []


def test_off_hours_stretches_of_a_working_day_and_a_day_off(db):
    stretches = off_hours_stretches(at(WED, 7), at(WED, 21))
    assert [(s, lo, hi) for s, lo, hi in stretches] == [
        (at(WED), at(WED, 7), at(WED, 8)),
        (at(WED, 20), at(WED, 20), at(WED, 21)),
    ]
    saturday = dt.date(2026, 3, 7)
    assert off_hours_stretches(at(saturday, 10), at(saturday, 11)) == [
        (at(saturday), at(saturday, 10), at(saturday, 11))
    ]


# F14: the summary is stored as a message and read in the reader's language.


def test_an_alert_raised_in_chinese_reads_in_english_for_an_english_reader(world, alerting):
    alerting(DENIAL_BURST=5)
    for i in range(5):
        record_at(world, at(WED, 10, 1, i), outcome="denied", reason="x")
    with translation.override("zh-hans"):  # the worker's language
        [alert] = alerts_detect_denial_bursts(now=at(WED, 10, 5))
    alert = Alert.objects.get(pk=alert.pk)
    with translation.override("en"):
        assert alert.summary_text == "5 denied requests in 10 minutes over 1 datasets"
    with translation.override("zh-hans"):
        assert alert.summary_text == "10 分钟内对 1 个信息资源的 5 次请求被拒绝"


def test_an_alert_raised_before_keeps_its_stored_summary(world):
    alert = Alert.objects.create(
        kind=Alert.Kind.VOLUME,
        department=world.consumer,
        summary="一天内 300 次读取",
        window_start=at(WED, 0),
        window_end=at(WED, 1),
        dedupe_key="old",
        created_at=at(WED, 1),
    )
    with translation.override("en"):
        assert Alert.objects.get(pk=alert.pk).summary_text == "一天内 300 次读取"


# F10: e-mails say the zone, read as text and link to the alert.


def test_the_alert_email_gives_local_times_with_the_zone_readable_details_and_a_link(
    world, alerting
):
    alerting(DENIAL_BURST=5)
    world.platform_auditor.email = "platform@example.gov.cn"
    world.platform_auditor.save()
    for i in range(5):
        record_at(world, at(WED, 15, 9, i), outcome="denied", reason="x")
    [alert] = alerts_detect_denial_bursts(now=at(WED, 15, 11))
    alerts_notify()
    [message] = [m for m in mail.outbox if m.to == ["platform@example.gov.cn"]]
    body = message.body
    assert "2026-03-04 15:09 (UTC+08:00, Asia/Shanghai)" in body
    assert "07:09" not in body  # not UTC
    assert "{'" not in body and "Denied requests: 5" in body
    assert f"/admin/audit/auditevent/alerts/?id={alert.pk}" in body
    assert f"{world.consumer.name} ({world.consumer.code})" in message.subject
    assert f"{world.provider.name} ({world.provider.code})" in body
