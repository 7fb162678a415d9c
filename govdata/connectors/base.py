"""The small interface every source connector implements, and the registry that finds them.

A connector opens its source and yields the column names once and then the rows as sequences in
that column order, each with its row number in the source (for the quarantine report). Adding a
kind of source is one module with one `Connector` subclass decorated with `@register`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_noop

from govdata.messages import MessageMixin

if TYPE_CHECKING:
    from govdata.connectors.hosts import HostPolicy


class SourceError(MessageMixin, Exception):
    """A transient failure of the source system (unreachable, timeout, 5xx): worth a retry."""


class SourceFormatError(MessageMixin, Exception):
    """The source answered, but its content cannot be read as records: retrying will not help."""


class Columns(list):
    """A source's column names, with what the row validator (govdata.rows) needs to know about
    them beyond the names. A plain list is a source whose header is all there is to know.

    - `keyed`: the records are keyed by name (JSON objects). A record may leave out any name
      (serialisers omit nulls), so the first records do not tell every name the source has:
      `want(names)` adds the names of fields found in none of them, and the connector projects
      each record onto the list as it is when the record is read.
    - `following`: the first rows after the header, as (row number, values), to recognise a
      header further down (a title row above it).
    - `delimiter`: the character a text file was split with, to recognise another one.
    """

    def __init__(
        self,
        names: Iterable[str] = (),
        *,
        keyed: bool = False,
        following: Sequence[tuple[int, Sequence[Any]]] = (),
        delimiter: str | None = None,
    ) -> None:
        super().__init__(names)
        self.keyed = keyed
        self.following = list(following)
        self.delimiter = delimiter

    def want(self, names: Iterable[str]) -> None:
        for name in names:
            if name not in self:
                self.append(name)


PEEK_ROWS = 10  # rows after the header a file connector keeps in Columns.following


def header_row_option(options: dict[str, Any]) -> int | None:
    """The "header_row" option of a file source: the header's row number (1 for the first
    row), or None to take the first row that is not blank."""
    value = options.get("header_row")
    if value in (None, ""):
        return None
    try:
        row = int(value)
    except (TypeError, ValueError):
        row = 0
    if row < 1 or isinstance(value, bool | float):
        raise SourceFormatError(
            gettext_noop("“header_row” must be a row number (1 for the first row)."), {}
        )
    return row


def no_header_row_error(row: int) -> SourceFormatError:
    return SourceFormatError(
        gettext_noop("The source has no row %(row)d, which “header_row” names as its header."),
        {"row": row},
    )


@dataclass
class SourceData:
    columns: list[str]
    rows: Iterator[tuple[int, Sequence[Any]]]  # (row number in the source, values)
    progress: Callable[[], float] | None = None  # share of the source read so far, if known


class Connector(ABC):
    kind: ClassVar[str]
    incremental_native: ClassVar[bool] = False  # filters by watermark itself

    def __init__(
        self,
        *,
        options: dict[str, Any],
        secrets: dict[str, Any],
        host_policy: HostPolicy | None = None,
    ) -> None:
        self.options = options
        self.secrets = secrets
        self.host_policy = host_policy  # a connector reaching a host checks it here first

    def check_host(self, url: str) -> None:
        if self.host_policy is not None:
            self.host_policy.check(url)

    @abstractmethod
    def open(
        self, *, watermark_column: str | None = None, since: str | None = None
    ) -> AbstractContextManager[SourceData]:
        """Open the source; rows newer than `since` in `watermark_column` when both are given."""


REGISTRY: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    REGISTRY[cls.kind] = cls
    return cls


def connector_for(
    kind: str,
    *,
    options: dict[str, Any],
    secrets: dict[str, Any],
    host_policy: HostPolicy | None = None,
) -> Connector:
    import govdata.connectors  # noqa: F401 - registers the built-in kinds

    try:
        return REGISTRY[kind](options=options, secrets=secrets, host_policy=host_policy)
    except KeyError:
        raise SourceFormatError(f"unknown source kind {kind!r}") from None
