"""apps.sync.labels: what officers read about runs, in their own language."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps.sync.labels import REASONS_WITH_PARAMETERS, rejection_reason
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
