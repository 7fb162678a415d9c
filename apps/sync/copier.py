"""COPY of validated CSV batches into a run's staging table, over two database connections of its
own in parallel (PostgreSQL parses and converts each COPY on one core: two halves on two
connections take about half the time; docs/benchmark-notes.md, "Sync").

`copier_for` picks the parallel copier when the staging table is committed and so visible to
other sessions (the engine runs in autocommit), from the first batch past PARALLEL_AFTER_BYTES
on (smaller loads are COPied on the run's own connection); inside a transaction (tests wrap
each test in one) it COPies on the run's own connection throughout, in the caller's thread.

The copy connections live only as long as the run's load: `finish` waits for every batch and
closes them, `abort` cancels whatever is running and closes them; a killed worker takes them with
it (the server ends a backend whose client is gone). They commit each batch (autocommit, without
waiting for the WAL flush): the staging table is not published until the run's own transaction
commits, and that commit flushes the WAL of everything before it.
"""

from __future__ import annotations

import contextlib
import io
import queue
import threading
from collections.abc import Sequence

import psycopg2
from django.conf import settings
from django.db import connection

from apps.records import store

APPLICATION_NAME = "govdata-sync-copy"
QUEUE_BATCHES = 4  # batches waiting for a free connection: bounds the worker's memory
COPY_READ_BYTES = 1 << 20
PARALLEL_AFTER_BYTES = 8 << 20  # about 45,000 rows of a 12-column dataset


class InlineCopier:
    """COPY on the run's own connection, at once (inside a transaction)."""

    connections = 1

    def __init__(self, cursor, table: str, columns: Sequence[str]) -> None:
        self.raw = getattr(cursor, "cursor", cursor)
        self.statement = store.copy_in_statement(table, columns).as_string(self.raw)

    def put(self, data: bytes) -> None:
        # psycopg2's own errors, as Django's: a cut connection is then told from bad data
        # (the engine retries the first, fails the run on the second).
        with connection.wrap_database_errors:
            self.raw.copy_expert(self.statement, io.BytesIO(data), size=COPY_READ_BYTES)

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        pass


class ParallelCopier:
    """Threads, each with its own connection, COPying batches from a bounded queue. An error on
    any connection stops the load: the next `put` or `finish` raises it (as Django's exception
    class, so the engine tells a broken connection from bad data as on its own connection)."""

    def __init__(self, table: str, columns: Sequence[str], connections: int) -> None:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params["application_name"] = APPLICATION_NAME
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_BATCHES)
        self.error: BaseException | None = None
        self.stopping = False
        self.conns = []
        try:
            for _ in range(connections):
                with connection.wrap_database_errors:  # e.g. "too many clients": retried
                    conn = psycopg2.connect(**params)
                conn.autocommit = True
                with conn.cursor() as cursor:
                    cursor.execute("SET synchronous_commit = off")
                self.conns.append(conn)
        except BaseException:
            self._close()
            raise
        self.statement = store.copy_in_statement(table, columns).as_string(self.conns[0])
        self.connections = len(self.conns)
        self.threads = [
            threading.Thread(target=self._work, args=(c,), name=f"sync-copy-{i}", daemon=True)
            for i, c in enumerate(self.conns)
        ]
        for thread in self.threads:
            thread.start()

    def _work(self, conn) -> None:
        while True:
            data = self.queue.get()
            if data is None or self.stopping:
                return
            try:
                with conn.cursor() as cursor:
                    cursor.copy_expert(self.statement, io.BytesIO(data), size=COPY_READ_BYTES)
            except BaseException as exc:  # noqa: BLE001 - handed to the run's thread
                if self.error is None:
                    self.error = exc
                self.stopping = True
                return

    def _raise(self) -> None:
        if self.error is not None:
            error, self.error = self.error, None
            self.abort()
            with connection.wrap_database_errors:
                raise error

    def put(self, data: bytes) -> None:
        while True:
            self._raise()
            try:
                self.queue.put(data, timeout=0.2)
                return
            except queue.Full:
                continue

    def finish(self) -> None:
        # One stop marker per thread, whether or not it is still running: a thread that ends
        # early never takes another's marker away from it.
        for _thread in self.threads:
            while True:
                self._raise()
                try:
                    self.queue.put(None, timeout=0.2)
                    break
                except queue.Full:
                    if not any(t.is_alive() for t in self.threads):
                        break
        for thread in self.threads:
            thread.join()
        self._raise()
        self._close()

    def abort(self) -> None:
        """Stop at once: cancel running COPYs, drop what is queued, close the connections."""
        self.stopping = True
        for conn in self.conns:
            with contextlib.suppress(psycopg2.Error):
                conn.cancel()
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        for _ in self.threads:
            try:
                self.queue.put_nowait(None)
            except queue.Full:
                break
        for thread in self.threads:
            thread.join(timeout=10)
        self._close()

    def _close(self) -> None:
        for conn in self.conns:
            with contextlib.suppress(psycopg2.Error):
                conn.close()
        self.conns = []


class AdaptiveCopier:
    """COPY on the run's own connection for the first PARALLEL_AFTER_BYTES, then over parallel
    connections: a small or incremental run pays for no connections and no threads (they cost
    an incremental run of 10,000 rows a fifth of its time), a large one gets both cores."""

    def __init__(self, cursor, table: str, columns: Sequence[str], connections: int) -> None:
        self.inline = InlineCopier(cursor, table, columns)
        self.table, self.columns, self.wanted = table, columns, connections
        self.parallel: ParallelCopier | None = None
        self.sent = 0

    @property
    def connections(self) -> int:
        return self.wanted if self.parallel is not None else 1

    def put(self, data: bytes) -> None:
        if self.parallel is None and self.sent + len(data) <= PARALLEL_AFTER_BYTES:
            self.sent += len(data)
            self.inline.put(data)
            return
        if self.parallel is None:
            self.parallel = ParallelCopier(self.table, self.columns, self.wanted)
        self.parallel.put(data)

    def finish(self) -> None:
        if self.parallel is not None:
            self.parallel.finish()

    def abort(self) -> None:
        if self.parallel is not None:
            self.parallel.abort()


def copier_for(cursor, table: str, columns: Sequence[str]):
    wanted = int(settings.GOVDATA.get("SYNC_COPY_CONNECTIONS", 2))
    if wanted < 2 or connection.in_atomic_block:
        return InlineCopier(cursor, table, columns)
    return AdaptiveCopier(cursor, table, columns, wanted)
