"""Errors whose message is a message id and its parameters, translated only when shown.

A sync run's error is stored untranslated and shown in its reader's language: the platform
finds the message id of an error in its attributes `msgid` and `params` (apps.sync.errors
takes them as they are), and `str()` gives the message in the active language for callers that
show it at once (a form's validation error). Message ids are marked with `gettext_noop` where
they are written, so that makemessages finds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext


class MessageMixin(Exception):
    """`Error(message)` keeps a finished message, as before; `Error(msgid, params)` keeps the
    message id and its parameters (`{}` for a message without any)."""

    def __init__(self, message: str, params: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        if params is not None:
            self.msgid = message
            self.params = dict(params)

    def __str__(self) -> str:
        msgid = getattr(self, "msgid", None)
        if msgid is None:
            return super().__str__()
        text = gettext(msgid)
        return text % self.params if self.params else text


def listing(values: Any, limit: int = 10) -> str:
    """Up to `limit` values joined with commas, and how many more there are ("..." + count):
    an error names what is wrong without growing with the source."""
    values = [str(v) for v in values]
    shown = ", ".join(values[:limit])
    if len(values) > limit:
        shown += f", … (+{len(values) - limit})"
    return shown
