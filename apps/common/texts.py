"""Text kept untranslated until someone reads it: a message id (marked with gettext_noop where
it is written, so that makemessages finds it) and its parameters, stored as JSON and rendered
in the reader's language. For what is written once and read later by people who may use
another language than its author (notifications): translated when written, a notification
sent by an officer working in English stayed English for colleagues reading in Chinese."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext


@dataclass(frozen=True)
class Text:
    msgid: str
    params: Mapping[str, Any] = field(default_factory=dict)  # values: str, int or Text

    def __str__(self) -> str:
        translated = gettext(self.msgid)
        if not self.params:
            return translated
        return translated % {
            k: str(v) if isinstance(v, Text) else v for k, v in self.params.items()
        }

    def to_json(self) -> list:
        return [
            self.msgid,
            {k: v.to_json() if isinstance(v, Text) else v for k, v in self.params.items()},
        ]

    @classmethod
    def from_json(cls, value: Any) -> Text:
        msgid, params = value
        return cls(
            msgid,
            {k: cls.from_json(v) if isinstance(v, list) else v for k, v in params.items()},
        )


def label_text(label: Any) -> Text | str:
    """A choice label (gettext_lazy) as a Text, so that it too is translated when read; any
    other value as it is."""
    args = getattr(label, "_args", None)
    if args and isinstance(args[0], str):
        return Text(args[0])
    return str(label)
