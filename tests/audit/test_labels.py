"""Labels of what the console and the alert e-mails show: the 400 reasons the platform records,
the platform-language form a reason is recorded in, alert details and times with their zone."""

import datetime as dt

import pytest
from django.utils import translation

from apps.audit import labels


@pytest.mark.parametrize(
    ("recorded", "language", "shown"),
    [
        (
            "每次读取数据都必须提供 X-Purpose 请求头。",
            "en",
            "The X-Purpose header is required on every record read.",
        ),
        ("page_size 必须在 1 到 1000 之间。", "en", "page_size must be between 1 and 1000."),
        ("format must be csv or ndjson.", "zh-hans", "format 必须是 csv 或 ndjson。"),
        ("Unknown field “nope”.", "zh-hans", "未知信息项“nope”。"),
        (
            "“district__in” takes 1 to 1000 values.",
            "zh-hans",
            "“district__in”接受 1 到 1000 个值。",
        ),
    ],
)
def test_refusals_of_malformed_reads_are_shown_in_the_readers_language(recorded, language, shown):
    with translation.override(language):
        assert labels.reason_label(recorded) == shown


def test_a_number_placeholder_takes_digits_only():
    assert labels.reason_label("page_size must be between 1 and many.") is None


def test_a_reason_is_recorded_in_the_platforms_language_whatever_the_callers(settings):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("en"):  # an agency calling in English
        recorded = labels.reason_for_record("You may not read the field “address”.")
    assert recorded == "您无权读取信息项“address”。"
    with translation.override("en"):
        assert labels.reason_label(recorded) == "You may not read the field “address”."


@pytest.mark.parametrize("reason", ["no readable field", "export complete", "申请用途不符", ""])
def test_codes_and_peoples_own_words_are_recorded_as_given(settings, reason):
    settings.LANGUAGE_CODE = "zh-hans"
    assert labels.reason_for_record(reason) == reason


def test_alert_details_read_as_labelled_text():
    details = {
        "rows": 20000,
        "fields": ["id_number", "name"],
        "first_seq": 171,
        "dataset_id": 3,
        "custom": {"a": 1},
    }
    with translation.override("en"):
        assert labels.alert_detail_items(details) == [
            ("Rows read", "20000"),
            ("Fields", "id_number, name"),
            ("First event", "#171"),
            ("custom", "a: 1"),
        ]


def test_local_time_gives_the_platforms_zone():
    when = dt.datetime(2026, 11, 26, 6, 11, 5, 123456, tzinfo=dt.UTC)
    assert labels.local_time(when) == "2026-11-26 14:11 (UTC+08:00, Asia/Shanghai)"
    assert labels.local_time(when, precise=True).startswith("2026-11-26 14:11:05.123456 (UTC+08")
