"""apps.sync.labels: what officers read about runs, in their own language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from apps.sync.labels import (
    REASONS_WITH_PARAMETERS,
    attempts_label,
    progress_bar_value,
    progress_label,
    rejection_reason,
)
from apps.sync.models import SyncRun
from govdata.validation import FieldError, FieldSpec, field_validator


def _untranslated_error(spec: FieldSpec, value: str) -> str:
    """The reason as the engine stores it (apps.sync.engine.row_errors)."""
    with translation.override(None), pytest.raises(FieldError) as refused:
        field_validator(spec)(value)
    return str(refused.value)


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "wrong check digit"), ("zh-hans", "校验码错误")]
)
def test_a_stored_reason_is_shown_in_the_readers_language(language, expected):
    stored = _untranslated_error(FieldSpec("id_number", "id_card"), "110101199001010010")
    with translation.override(language):
        assert rejection_reason(stored) == expected


def test_a_reason_with_parameters_is_translated_with_them():
    stored = _untranslated_error(FieldSpec("gender", "enum", enum_values=("男", "女")), "M")
    assert stored == REASONS_WITH_PARAMETERS[0] % {"values": "男, 女"}  # the msgids agree
    with translation.override("zh-hans"):
        assert rejection_reason(stored) == "不是允许的值（男, 女）"
    with translation.override("en"):
        assert rejection_reason(stored) == stored


@pytest.mark.parametrize("stored", ["校验码错误", "Invalid isoformat string: 'x'", ""])
def test_a_reason_the_catalogue_does_not_know_is_shown_as_stored(stored):
    """Reasons stored (translated) before they were kept untranslated, and library texts."""
    with translation.override("en"):
        assert rejection_reason(stored) == stored


def test_a_duplicate_key_reason_is_translated_with_its_rows():
    from apps.sync.publish import DUPLICATE_REASON

    assert DUPLICATE_REASON in REASONS_WITH_PARAMETERS  # the msgids agree
    stored = DUPLICATE_REASON % {"rows": "3, 6"}
    with translation.override("en"):
        assert rejection_reason(stored) == "duplicate key: rows 3, 6 have the same key"


def _run(**fields) -> SyncRun:
    return SyncRun(**{"status": "running", "phase": "reading", "progress": 0.0, **fields})


def test_reading_a_source_that_cannot_tell_its_share_shows_the_rows_read():
    """Exploratory finding P19: a workbook, a query or an API stayed at "0% Reading"."""
    run = _run(rows_read=20000)
    assert progress_label(run) == "Reading the source · 20,000 rows read"
    assert progress_bar_value(run) is None  # a bar that moves, not one stuck at 0
    known = _run(rows_read=20000, progress=0.45)
    assert progress_label(known) == "45% Reading the source · 20,000 rows read"
    assert progress_bar_value(known) == 0.45
    assert progress_label(_run(rows_read=0)) == "0% Reading the source"


def test_a_run_waiting_to_retry_says_which_attempt_comes_when(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    at = dt.datetime(2026, 3, 1, 2, 30, 15, tzinfo=dt.UTC)
    run = _run(status="retrying", attempts=2, next_attempt_at=at)
    assert progress_label(run) == "Waiting to retry: attempt 3 of 6 at 10:30:15"
    assert attempts_label(run) == "2 of 6"
    assert progress_label(_run(status="retrying", attempts=2)) == "Waiting to retry"


def test_a_finished_run_counts_its_attempts_without_promising_more():
    assert attempts_label(_run(status="succeeded", attempts=1)) == "1"
    assert attempts_label(_run(status="failed", attempts=6)) == "6"
