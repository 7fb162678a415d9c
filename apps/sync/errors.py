"""A run's error kept as a message id and its parameters (apps.common.texts.Text) and shown in
its reader's language, as quarantine reasons are (apps.sync.labels.rejection_reason).

An exception that names its `msgid` and `params` itself (govdata.messages.MessageMixin) is
taken at its word, and the platform's own failures (runstate.SyncFailed) carry their Text. The
engine executes with translation off (apps.sync.engine.run_execute), so an exception raised as
`_("...") % {...}` -- as some of govdata's still are -- carries its message id with the
parameters filled in: `error_text` finds the id and the parameters back with the patterns of
GOVDATA_MESSAGES (govdata's msgids: keep them equal; tests/sync/test_errors.py checks every one
that govdata renders so).

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

# govdata's messages with parameters (connectors, row validator, field validation), as written
# there.
GOVDATA_MESSAGES = [
    gettext_noop("Row %(row)d is not valid CSV (%(error)s), e.g. an unclosed quote."),
    gettext_noop(
        "Cannot tell the file's character encoding for sure (it looks like %(enc)s, which is not "
        "read automatically); save the file as UTF-8, or choose GBK / GB18030 if it is one."
    ),
    gettext_noop("Line %(row)d cannot be decoded as %(enc)s; choose the file's real encoding."),
    gettext_noop("The uploaded file %(name)s is missing."),
    gettext_noop("Unknown encoding “%(enc)s”."),
    gettext_noop(
        "The host %(host)s is not among the networks the platform administrator allows sources "
        "in (GOVDATA_SYNC_SOURCE_HOSTS)."
    ),
    gettext_noop("A source may not be the platform's own database or services (%(host)s)."),
    gettext_noop("“%(name)s” is not a valid table or column name."),
    gettext_noop("Cannot connect to the source database: %(e)s"),
    gettext_noop("Unsupported database “%(scheme)s”."),
    gettext_noop("The source query failed: %(e)s"),
    gettext_noop("The file is not a readable .xlsx workbook (%(error)s)."),
    gettext_noop("the key column “%(key)s” is missing from the source (columns: %(cols)s)"),
    gettext_noop("required columns are missing from the source: %(cols)s"),
    gettext_noop("not one of the allowed values (%(values)s)"),
    gettext_noop(
        "The database URL sets %(params)s, which a source's URL may not set (it may set only "
        "the host, port, database, user and password)."
    ),
    gettext_noop(
        "The database URL sets %(params)s, which a source's URL may not set (besides the host, "
        "port, database, user and password, it may set only %(allowed)s)."
    ),
    gettext_noop("The database URL names more than one host (%(host)s); give one."),
    gettext_noop(
        "A source database must be reached over the network, not through a local socket (%(host)s)."
    ),
    gettext_noop("The database URL cannot be read: %(error)s"),
    gettext_noop(
        "the key column “%(key)s” is missing: the header is one single column, so the file is "
        'probably not separated by “%(delimiter)s”. Set "delimiter" in the source\'s options '
        '(for example ";", or "\\t" for a tab).'
    ),
    gettext_noop(
        "the key column “%(key)s” is not in the header, but row %(row)d has it: is there a "
        'title above the header? Make the header the first row, or set "header_row": %(row)d '
        "in the source's options."
    ),
    gettext_noop(
        "the field %(field)s has more than one column in the source: columns %(positions)s; "
        "keep one of them"
    ),
    gettext_noop(
        "no column for the fields %(fields)s; columns not in the dataset: %(cols)s. Head each "
        "column with its field's name or label."
    ),
    gettext_noop("The source has no row %(row)d, which “header_row” names as its header."),
]

# Parameters whose value is the source's own text (see the module's docstring): an error text
# of the source system or a library, the source's header, an API's cursor (often a key).
SOURCE_TEXT_PARAMS = frozenset({"e", "error", "cols", "cursor"})
WITHHELD = gettext_noop("[not shown: it may quote the source's data]")

UNEXPECTED = gettext_noop("Unexpected error: %(error)s")
INTERRUPTED = gettext_noop(
    "The connection to the platform's database broke; the run will be retried: %(error)s"
)

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


GOVDATA_CATALOGUE = MessageCatalogue(GOVDATA_MESSAGES)


def error_text(exc: BaseException) -> Text:
    """The message of an exception raised while a run executed, as a Text."""
    text = getattr(exc, "text", None)
    if isinstance(text, Text):
        return text
    msgid = getattr(exc, "msgid", None)
    if isinstance(msgid, str):
        return Text(msgid, dict(getattr(exc, "params", None) or {}))
    return GOVDATA_CATALOGUE.text(str(exc))


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
