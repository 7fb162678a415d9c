"""A run's error kept as a message id and its parameters (apps.common.texts.Text) and shown in
its reader's language, as quarantine reasons are (apps.sync.labels.rejection_reason).

govdata's errors name their `msgid` and `params` themselves (govdata.messages.MessageMixin),
and the platform's own failures (runstate.SyncFailed) carry their Text: `error_text` takes
either at its word. Anything else (a library's or a source system's own text) is kept as it
reads.

Who reads what: a parameter that quotes the source (SOURCE_TEXT_PARAMS: the source system's or a
library's error text, the source's header row, which is a data row when a file has none, an
API's cursor) may hold personal data, so it is shown only to those who may read the quarantine
report, by the same rule (apps.sync.permissions.can_read_source_text); others read the message
without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from apps.common.texts import Text

# Parameters whose value is the source's own text (see the module's docstring): an error text
# of the source system or a library, the source's header, an API's cursor (often a key).
SOURCE_TEXT_PARAMS = frozenset({"e", "error", "cols", "cursor"})
WITHHELD = gettext_noop("[not shown: it may quote the source's data]")

UNEXPECTED = gettext_noop("Unexpected error: %(error)s")
INTERRUPTED = gettext_noop(
    "The connection to the platform's database broke; the run will be retried: %(error)s"
)

# Quarantine reasons are not exceptions: they are stored as text (SyncRejection.reason), rendered
# untranslated with their parameters filled in, so apps.sync.labels.rejection_reason finds the
# message id and parameters back with these patterns. Run errors never need them (see above).
_PLACEHOLDER = re.compile(r"%\((\w+)\)(s|d|\.\d+f)|%%")
_CONVERT = {"d": int, "f": float}


def message_pattern(msgid: str) -> tuple[re.Pattern[str], dict[str, str]]:
    """A regular expression matching `msgid` with any parameters filled in, and each
    parameter's conversion ("s", "d" or "f")."""
    parts, conversions, position = [], {}, 0
    for found in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[position : found.start()]))
        position = found.end()
        name, conversion = found.group(1), found.group(2)
        if name is None:  # "%%"
            parts.append("%")
        elif name in conversions:  # the same parameter twice: the same value twice
            parts.append(f"(?P={name})")
        else:
            conversions[name] = conversion[-1]
            if conversion == "d":
                parts.append(rf"(?P<{name}>-?\d+)")
            elif conversion.endswith("f"):
                parts.append(rf"(?P<{name}>-?\d+(?:\.\d+)?)")
            else:
                parts.append(rf"(?P<{name}>.*?)")
    parts.append(re.escape(msgid[position:]))
    return re.compile("".join(parts) + r"\Z", re.DOTALL), conversions


class MessageCatalogue:
    """Finds the message id and parameters of a message rendered untranslated."""

    def __init__(self, msgids: Iterable[str]) -> None:
        self._patterns = [
            (msgid, *message_pattern(msgid)) for msgid in msgids if _PLACEHOLDER.search(msgid)
        ]

    def text(self, message: str) -> Text:
        """`message` as a Text; one the catalogue does not know as a bare message id (shown
        translated if the translation catalogue has it, else as it is)."""
        for msgid, pattern, conversions in self._patterns:
            found = pattern.match(message)
            if found:
                params: dict[str, Any] = {
                    name: _CONVERT.get(conversions[name], str)(value)
                    for name, value in found.groupdict().items()
                }
                return Text(msgid, params)
        return Text(message)


def error_text(exc: BaseException) -> Text:
    """The message of an exception raised while a run executed, as a Text."""
    text = getattr(exc, "text", None)
    if isinstance(text, Text):
        return text
    msgid = getattr(exc, "msgid", None)
    if isinstance(msgid, str):
        return Text(msgid, dict(getattr(exc, "params", None) or {}))
    return Text(str(exc))


def withhold_source_text(text: Text) -> Text:
    """`text` without the parameters that quote the source."""
    return Text(
        text.msgid,
        {
            name: Text(WITHHELD)
            if name in SOURCE_TEXT_PARAMS
            else (withhold_source_text(value) if isinstance(value, Text) else value)
            for name, value in text.params.items()
        },
    )


def in_platform_language(text: Text) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(text)


def stored_error_text(value: Any) -> Text | None:
    """A run's error_text as stored (Text.to_json), or None for a run stored before it."""
    if not value:
        return None
    try:
        return Text.from_json(value)
    except (TypeError, ValueError):
        return None


def error_for_reader(*, error_text: Any, error: str, source_text_allowed: bool) -> str:
    """The run's error in the active language, the source's own text only for those allowed
    to read it. A run stored before errors were kept as Text shows its stored text (in the
    platform's language of the time)."""
    text = stored_error_text(error_text)
    if text is None:
        return error
    return str(text if source_text_allowed else withhold_source_text(text))
