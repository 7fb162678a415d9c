"""The small interface every source connector implements, and the registry that finds them.

A connector opens its source and yields the column names once and then the rows as sequences in
that column order, each with its row number in the source (for the quarantine report). Adding a
kind of source is one module with one `Connector` subclass decorated with `@register`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from govdata.connectors.hosts import HostPolicy


class SourceError(Exception):
    """A transient failure of the source system (unreachable, timeout, 5xx): worth a retry."""


class SourceFormatError(Exception):
    """The source answered, but its content cannot be read as records: retrying will not help."""


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
