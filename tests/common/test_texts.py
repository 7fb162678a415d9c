"""Text kept untranslated until read (apps.common.texts)."""

from __future__ import annotations

import orjson
from django.utils import translation
from django.utils.translation import gettext_noop

from apps.common.texts import Text, label_text
from apps.objections.models import Objection


def test_a_text_is_rendered_in_the_language_active_when_read():
    text = Text(gettext_noop("Request #%(id)s approved"), {"id": 7})
    with translation.override("en"):
        assert str(text) == "Request #7 approved"
    with translation.override("zh-hans"):
        assert str(text) == "申请 #7 已批准"


def test_a_text_survives_json_with_a_translated_parameter():
    outcome = label_text(Objection.Outcome.CORRECTED.label)
    text = Text(
        gettext_noop("Objection #%(id)s answered: %(outcome)s"), {"id": 3, "outcome": outcome}
    )
    stored = orjson.loads(orjson.dumps(text.to_json()))
    again = Text.from_json(stored)
    assert again == text
    with translation.override("en"):
        assert str(again) == "Objection #3 answered: Corrected"
    with translation.override("zh-hans"):
        assert str(again) == "数据异议 #3 已答复：" + str(Objection.Outcome.CORRECTED.label)
        assert "Corrected" not in str(again)


def test_a_plain_value_is_kept_as_it_is():
    assert label_text("天河区") == "天河区"
    assert str(Text("no translation for this")) == "no translation for this"
