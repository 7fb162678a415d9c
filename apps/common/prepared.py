"""Server-side prepared statements for the few statements every API read runs.

The bearer-token check with the read policy (apps.api.auth + apps.sharing.policy.read_statement)
takes PostgreSQL about 0.8 ms to plan and 0.2 ms to run; prepared once per connection, each
later request only runs it. The statement is sent as `PREPARE ...; EXECUTE ...` in one round
trip the first time on a connection, and as `EXECUTE ...` afterwards, so a read still costs one
query however often it ran before (the constant query counts the tests assert hold).

PREPARE outlives transactions (a rollback does not undo it), so the names this connection has
prepared are remembered on the connection; a failed first round trip may or may not have left
the statement behind, so the next attempt uses a fresh name. Turn it off with
GOVDATA["PREPARED_STATEMENTS"] = False behind a pooler in transaction mode (PgBouncer), where
the next request may land on another server session.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError

# A connection keeps at most this many; past it they are all dropped and prepared again.
MAX_PER_CONNECTION = 64
_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s|%s")
_attempts = itertools.count()


def _numbered(statement: str, params: Sequence[Any] | Mapping[str, Any]):
    """The statement with $1..$n for psycopg2's placeholders, and the values in that order."""
    names: dict[str, int] = {}
    values: list[Any] = []
    positional = iter(params) if not isinstance(params, Mapping) else None

    def number(match: re.Match) -> str:
        matched, name = match.group(0), match.group(1)
        if matched == "%%":
            return matched  # stays escaped: the whole text goes through psycopg2's formatting
        if name is None:
            values.append(next(positional))  # type: ignore[arg-type]
            return f"${len(values)}"
        if name not in names:
            values.append(params[name])  # type: ignore[index]
            names[name] = len(values)
        return f"${names[name]}"

    return _PLACEHOLDER.sub(number, statement), values


def _registry(cursor) -> dict[str, str]:
    """statement text -> prepared name, for the server session behind this cursor."""
    wrapper = cursor.db
    raw = wrapper.connection
    state = getattr(wrapper, "_govdata_prepared", None)
    if state is None or state[0] is not raw:  # a new server session: nothing is prepared
        state = (raw, {})
        wrapper._govdata_prepared = state
    return state[1]


@dataclass
class PreparedCall:
    """SQL text running one statement as a prepared statement of the connection, to be sent
    alone or inside a longer round trip, with its values. Call done() once that round trip
    has succeeded, failed() when it raised."""

    sql: str
    values: list[Any]
    _registry: dict[str, str] | None = None
    _text: str = ""
    _name: str = ""
    _known: bool = False
    _reset: bool = False

    def done(self) -> None:
        if self._registry is not None and not self._known:
            self._registry[self._text] = self._name

    def failed(self, error: BaseException | None = None) -> None:
        """After the round trip raised `error`. A name this connection had prepared is only
        forgotten when the server says the statement is gone (DISCARD, a pooler) or its
        result type changed with the table: after any other error (a timeout, a failed
        read) it is still there, and forgetting it would leave it prepared but unused."""
        if self._registry is None:
            return
        if self._reset:  # the DEALLOCATE may have run: forget everything rather than guess
            self._registry.clear()
        elif self._known and _statement_gone(error):
            self._registry.pop(self._text, None)


def _statement_gone(error: BaseException | None) -> bool:
    code = getattr(error, "pgcode", None) or getattr(
        getattr(error, "__cause__", None), "pgcode", None
    )
    # 26000 invalid_sql_statement_name; 0A000 "cached plan must not change result type".
    return code is None or code in ("26000", "0A000")


def prepared_call(
    cursor, statement: str, params: Sequence[Any] | Mapping[str, Any]
) -> PreparedCall:
    """`EXECUTE name(...)` of `statement` (psycopg2 placeholders, all `%s` or all
    `%(name)s`), preceded by its PREPARE the first time on this connection. Several calls may
    share one round trip if their texts run in the order they were obtained (a call may drop
    every statement prepared before it, and prepares its own again). The statement as given
    when GOVDATA["PREPARED_STATEMENTS"] is off."""
    if not settings.GOVDATA.get("PREPARED_STATEMENTS", True):
        return PreparedCall(statement, list(params) if not isinstance(params, Mapping) else params)
    text, values = _numbered(statement, params)
    arguments = ", ".join(["%s"] * len(values))
    prepared = _registry(cursor)
    name = prepared.get(text)
    if name is not None:
        call = f"EXECUTE {name}({arguments})" if values else f"EXECUTE {name}"
        return PreparedCall(call, values, prepared, text, name, _known=True)
    reset = len(prepared) >= MAX_PER_CONNECTION
    if reset:
        prepared.clear()
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
    name = f"govdata_{digest}_{next(_attempts)}"
    call = f"EXECUTE {name}({arguments})" if values else f"EXECUTE {name}"
    head = "DEALLOCATE ALL; " if reset else ""
    return PreparedCall(
        f"{head}PREPARE {name} AS {text}; {call}", values, prepared, text, name, _reset=reset
    )


def execute_prepared(cursor, statement: str, params: Sequence[Any] | Mapping[str, Any]) -> None:
    """cursor.execute(statement, params), as a prepared statement of this connection.
    `statement` uses psycopg2 placeholders, either all `%s` or all `%(name)s`."""
    call = prepared_call(cursor, statement, params)
    try:
        cursor.execute(call.sql, call.values)
    except DatabaseError as exc:
        call.failed(exc)
        raise
    call.done()
