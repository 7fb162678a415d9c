"""Anomaly detectors raise one alert per window and e-mail the auditors concerned."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from apps.audit.anomalies_calendar import alerts_detect_off_hours, alerts_detect_volume
from apps.audit.anomalies_email import alerts_notify
from apps.audit.anomalies_windows import (
    alerts_detect_denial_bursts,
    alerts_detect_sensitive_reads,
)
from apps.audit.models import Alert
from tests.api.conftest import PURPOSE, ROWS, api_world  # noqa: F401 - the API test world fixture
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def thresholds(settings):
    settings.GOVDATA = {
        **settings.GOVDATA,
        "AUDIT_ALERTS": {
            "VOLUME_MIN_READS": 10,
            "DENIAL_BURST": 5,
            "OFF_HOURS_MIN_READS": 3,
            "EXPORT_MIN_ROWS": 1000,
        },
    }


def test_denial_burst_raises_one_alert_and_mails_auditors(world, thresholds):
    world.platform_auditor.email = "platform@example.gov.cn"
    world.platform_auditor.save()
    for i in range(6):
        record_read(world, request_id=f"d{i}", outcome="denied", reason="no grant")
    [alert] = alerts_detect_denial_bursts()
    assert alert.kind == Alert.Kind.DENIAL_BURST and alert.department == world.consumer
    assert alerts_detect_denial_bursts() == []  # same window: no second alert
    assert alerts_notify() == 1
    assert ["platform@example.gov.cn"] in [m.to for m in mail.outbox]  # one message each
    assert alerts_notify() == 0


def test_few_denials_raise_nothing(world, thresholds):
    for i in range(4):
        record_read(world, request_id=f"d{i}", outcome="denied")
    assert alerts_detect_denial_bursts() == []


def test_reads_at_night_raise_an_off_hours_alert(world, thresholds, log_from_the_past):
    with time_machine.travel(dt.datetime(2026, 3, 4, 2, 30, tzinfo=TZ), tick=False):
        for i in range(3):
            record_read(world, request_id=f"n{i}")
    with time_machine.travel(dt.datetime(2026, 3, 4, 3, 0, tzinfo=TZ), tick=False):
        [alert] = alerts_detect_off_hours()
    assert alert.department == world.consumer and alert.details["reads"] == 3


def test_reads_in_office_hours_raise_nothing(world, thresholds):
    with time_machine.travel(dt.datetime(2026, 3, 4, 10, 0, tzinfo=TZ), tick=False):
        for i in range(3):
            record_read(world, request_id=f"n{i}")
    with time_machine.travel(dt.datetime(2026, 3, 4, 10, 30, tzinfo=TZ), tick=False):
        assert alerts_detect_off_hours() == []


def test_bulk_export_of_sensitive_fields_is_flagged(world, thresholds):
    field = world.fields["id_number"]
    field.sensitivity = "highly_sensitive"
    field.save(update_fields=["sensitivity"])
    record_read(world, action="export.end", row_count=5000, fields={"id_number": "none"})
    record_read(world, action="export.end", row_count=5000, fields={"gender": "none"})
    [alert] = alerts_detect_sensitive_reads()
    assert alert.details["fields"] == ["id_number"] and alert.provider == world.provider


def _export(client, path: str) -> None:
    response = client.get(f"/api/v1/datasets/GA-RK-001/{path}", **PURPOSE)
    assert response.status_code == 200
    b"".join(response.streaming_content)


def test_a_real_export_of_sensitive_fields_is_flagged_with_the_rows_it_sent(api_world, settings):  # noqa: F811
    settings.GOVDATA = {**settings.GOVDATA, "AUDIT_ALERTS": {"EXPORT_MIN_ROWS": len(ROWS)}}
    field = api_world.base.fields["id_number"]
    field.sensitivity = "highly_sensitive"
    field.save(update_fields=["sensitivity"])
    client = api_world.clients["granted"]
    _export(client, "export/?format=csv&district=天河区")  # 3 rows: under the threshold
    _export(client, "export/?format=csv&fields=gender,district")  # no sensitive field
    assert alerts_detect_sensitive_reads() == []
    _export(client, "export/?format=ndjson")
    [alert] = alerts_detect_sensitive_reads()
    # Every row that left with a sensitive field within the hour: the small export's too.
    assert alert.details["rows"] == 3 + len(ROWS) and alert.details["fields"] == ["id_number"]
    assert alert.department == api_world.base.consumer and alert.provider == api_world.base.provider


def test_an_export_counts_as_one_read_for_the_volume_alert(api_world, settings):  # noqa: F811
    settings.GOVDATA = {**settings.GOVDATA, "AUDIT_ALERTS": {"VOLUME_MIN_READS": 2}}
    _export(api_world.clients["granted"], "export/?format=csv")  # its start and its end: one read
    assert alerts_detect_volume() == []
    api_world.clients["granted"].get("/api/v1/datasets/GA-RK-001/records/", **PURPOSE)
    [alert] = alerts_detect_volume()
    assert alert.details["reads"] == 2


def test_reading_far_above_baseline_is_flagged(world, thresholds, log_from_the_past):
    with time_machine.travel(dt.datetime(2026, 3, 1, 10, tzinfo=TZ), tick=False):
        record_read(world, request_id="baseline")
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, tzinfo=TZ), tick=False):
        for i in range(12):
            record_read(world, request_id=f"v{i}")
    with time_machine.travel(dt.datetime(2026, 3, 20, 10, 30, tzinfo=TZ), tick=False):
        [alert] = alerts_detect_volume()
    assert alert.kind == Alert.Kind.VOLUME and alert.details["reads"] == 12
