"""Send the API's record reads to a read replica, when one is configured.

Reads go to the replica only inside `use_replica()`, and only when they are not part of a
transaction on the primary (a transaction must see its own writes). Everything else, and every
write, goes to the primary. Without a `replica` alias (DATABASE_REPLICA_URL unset) nothing changes.

Raw SQL (the record store's typed tables) does not pass through routers: take the alias from
`use_replica()` or `read_alias()` and use `connections[alias]`.

Decisions that must never lag (grants, revocations, the audit chain) are read from the primary:
keep `access_for` and audit writes outside `use_replica()`, or wrap them in `use_primary()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"
_ALIASES = frozenset({DEFAULT_DB_ALIAS, REPLICA_ALIAS})

# A context variable, not a thread-local: correct under threads, async views and Celery alike.
_replica_wanted: ContextVar[bool] = ContextVar("govdata_replica_wanted", default=False)

F = TypeVar("F", bound=Callable[..., Any])


def replica_configured() -> bool:
    return REPLICA_ALIAS in settings.DATABASES and settings.GOVDATA.get("REPLICA_READS", True)


def read_alias() -> str:
    """The alias the current read should use: the replica inside `use_replica()` when one is
    configured and no transaction is open on the primary; else the primary."""
    if not _replica_wanted.get() or not replica_configured():
        return DEFAULT_DB_ALIAS
    if _in_transaction_on_primary():
        return DEFAULT_DB_ALIAS
    return REPLICA_ALIAS


def _in_transaction_on_primary() -> bool:
    # The transaction a Django TestCase wraps around each test is not one the code opened; like
    # Django's own `atomic(durable=True)` check, do not count it.
    blocks = connections[DEFAULT_DB_ALIAS].atomic_blocks
    return any(not getattr(block, "_from_testcase", False) for block in blocks)


@contextmanager
def use_replica() -> Iterator[str]:
    """Route ORM reads in the block to the replica; yields the alias to use for raw SQL."""
    token = _replica_wanted.set(True)
    try:
        yield read_alias()
    finally:
        _replica_wanted.reset(token)


@contextmanager
def use_primary() -> Iterator[str]:
    """Inside a `use_replica()` block, read something from the primary (e.g. grants)."""
    token = _replica_wanted.set(False)
    try:
        yield DEFAULT_DB_ALIAS
    finally:
        _replica_wanted.reset(token)


def replica_reads(func: F) -> F:
    """Decorator form of `use_replica()` for a view or selector whose reads may lag slightly."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with use_replica():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class ReplicaRouter:
    def db_for_read(self, model: type, **hints: Any) -> str:
        # Explicitly the primary outside use_replica(): otherwise Django would follow an instance
        # loaded from the replica back to the replica for its related objects.
        return read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # Both aliases hold the same data, so objects read from either may be related.
        if obj1._state.db in _ALIASES and obj2._state.db in _ALIASES:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA_ALIAS
