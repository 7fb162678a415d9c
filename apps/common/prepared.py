"""Server-side prepared statements for the few statements every API read runs.

The bearer-token check with the read policy (apps.api.auth + apps.sharing.policy.read_statement)
takes PostgreSQL about 0.8 ms to plan and 0.2 ms to run; prepared once per connection, each
later request only runs it. The statement is sent as `PREPARE ...; EXECUTE ...` in one round
trip the first time on a connection, and as `EXECUTE ...` afterwards, so a read still costs one
query however often it ran before (the constant query counts the tests assert hold).

PREPARE outlives transactions (a rollback does not undo it), so the names this connection has
prepared are remembered on the connection. A failed first round trip may or may not have left
its statement behind (the PREPARE ran, the EXECUTE raised: a timeout, a failed read), so the
next attempt uses a fresh name, and the old one is remembered as possibly prepared: the next
round trip that prepares anything drops it if it is there, and until then it counts towards
MAX_PER_CONNECTION. A connection thus never holds statements nobody will run, and a successful
read never pays for that cleanup. Turn it off with GOVDATA["PREPARED_STATEMENTS"] = False
behind a pooler in transaction mode (PgBouncer), where the next request may land on another
server session.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

# A connection keeps at most this many; past it they are all dropped and prepared again.
MAX_PER_CONNECTION = 64
_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s|%s")
_attempts = itertools.count()


@functools.lru_cache(maxsize=512)
def _numbering(statement: str) -> tuple[str, tuple[str, ...] | int]:
    """The statement with $1..$n for psycopg2's placeholders, and where the values come from:
    the parameter names in $-order, or the number of positional ones. Cached: the API's few
    statements come back on every request, and the regular expression cost more than the rest
    of a call."""
    names: dict[str, int] = {}
    positional = 0

    def number(match: re.Match) -> str:
        nonlocal positional
        matched, name = match.group(0), match.group(1)
        if matched == "%%":
            return matched  # stays escaped: the whole text goes through psycopg2's formatting
        if name is None:
            positional += 1
            return f"${positional}"
        if name not in names:
            names[name] = len(names) + 1
        return f"${names[name]}"

    text = _PLACEHOLDER.sub(number, statement)
    if names and positional:
        raise ValueError("a statement takes either %s or %(name)s placeholders, not both")
    return text, tuple(names) if names else positional


def _numbered(statement: str, params: Sequence[Any] | Mapping[str, Any]):
    """The statement with $1..$n for psycopg2's placeholders, and the values in that order."""
    text, order = _numbering(statement)
    if isinstance(params, Mapping):
        if not isinstance(order, tuple) and order:
            raise TypeError("%s placeholders need a sequence of values")
        values = [params[name] for name in order] if isinstance(order, tuple) else []
    else:
        if isinstance(order, tuple):
            raise TypeError("named placeholders need a mapping of values")
        values = list(params)[:order]
        if len(values) < order:
            raise IndexError(f"{order} placeholders, {len(values)} values")
    return text, values


@dataclass
class _Session:
    """What one server session holds: `names` maps a statement's text to the name it is
    prepared under; `unsure` are names that may be prepared there but that nothing will run
    again (their round trip failed), to be dropped by the next round trip that prepares."""

    raw: Any
    names: dict[str, str] = field(default_factory=dict)
    unsure: set[str] = field(default_factory=set)


def _session(cursor) -> _Session:
    """The prepared statements of the server session behind this cursor."""
    wrapper = cursor.db
    raw = wrapper.connection
    state = getattr(wrapper, "_govdata_prepared", None)
    if state is None or state.raw is not raw:  # a new server session: nothing is prepared
        state = _Session(raw)
        wrapper._govdata_prepared = state
    return state


def _deallocate_if_prepared(names: Iterable[str]) -> str:
    """Statements dropping those of `names` the session has: a plain DEALLOCATE of one that
    is not there would fail the round trip it rides in. The names are our own
    (govdata_<hex>_<n>), safe to write into the text."""
    listed = ", ".join(f"'{name}'" for name in sorted(names))
    return (
        "DO $$DECLARE n text; BEGIN FOR n IN SELECT name FROM pg_prepared_statements"
        f" WHERE name IN ({listed}) LOOP EXECUTE 'DEALLOCATE ' || quote_ident(n); END LOOP;"
        " END $$; "
    )


@dataclass
class PreparedCall:
    """SQL text running one statement as a prepared statement of the connection, to be sent
    alone or inside a longer round trip, with its values. Call done() once that round trip
    has succeeded, failed() when it raised (whatever it raised: what the text drops is
    only known to be gone after done())."""

    sql: str
    values: list[Any]
    _session: _Session | None = None
    _text: str = ""
    _name: str = ""
    _known: bool = False
    _dropping: frozenset[str] = frozenset()

    def done(self) -> None:
        if self._session is None or self._known:
            return
        replaced = self._session.names.get(self._text)
        if replaced is not None and replaced != self._name:  # prepared twice in one round trip
            self._session.unsure.add(replaced)
        self._session.names[self._text] = self._name

    def failed(self, error: BaseException | None = None) -> None:
        """After the round trip raised `error`: whatever it prepared or was to drop may or may
        not be there now, so it is dropped by the next round trip that prepares. A name this
        connection had prepared is only given up when the server says the statement is gone
        (DISCARD, a pooler) or its result type changed with the table (then it is still
        there, unusable): after any other error (a timeout, a failed read) it is still there
        and still good."""
        if self._session is None:
            return
        session = self._session
        session.unsure |= self._dropping
        if not self._known:
            session.unsure.add(self._name)
        elif _statement_gone(error) and session.names.get(self._text) == self._name:
            del session.names[self._text]
            session.unsure.add(self._name)


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
    session = _session(cursor)
    name = session.names.get(text)
    if name is not None:
        call = f"EXECUTE {name}({arguments})" if values else f"EXECUTE {name}"
        return PreparedCall(call, values, session, text, name, _known=True)
    # What this text drops leaves the session's books now, so that a later call in the same
    # round trip does not drop it again; failed() puts it back.
    if len(session.names) + len(session.unsure) >= MAX_PER_CONNECTION:
        # DEALLOCATE ALL drops them whatever their names: if it fails, keeping as many as force
        # the next attempt to start over again is enough (the set cannot grow without bound).
        dropping = frozenset(
            itertools.islice({*session.names.values(), *session.unsure}, MAX_PER_CONNECTION)
        )
        head = "DEALLOCATE ALL; "
        session.names.clear()
    elif session.unsure:
        dropping = frozenset(session.unsure)
        head = _deallocate_if_prepared(dropping)
    else:
        dropping, head = frozenset(), ""
    session.unsure.clear()
    digest = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
    name = f"govdata_{digest}_{next(_attempts)}"
    call = f"EXECUTE {name}({arguments})" if values else f"EXECUTE {name}"
    return PreparedCall(
        f"{head}PREPARE {name} AS {text}; {call}",
        values,
        session,
        text,
        name,
        _dropping=dropping,
    )


def execute_prepared(cursor, statement: str, params: Sequence[Any] | Mapping[str, Any]) -> None:
    """cursor.execute(statement, params), as a prepared statement of this connection.
    `statement` uses psycopg2 placeholders, either all `%s` or all `%(name)s`."""
    call = prepared_call(cursor, statement, params)
    try:
        cursor.execute(call.sql, call.values)
    except BaseException as exc:  # an interrupted round trip may have prepared or dropped
        call.failed(exc)
        raise
    call.done()
