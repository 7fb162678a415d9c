"""The two-connection COPY of a real run (autocommit, as in a worker): same results as the Python
path, no copy connection outlives the run, and a copy connection that breaks mid-run leaves the
published data as it was, with a retry that gives the clean run's result."""

from __future__ import annotations

import io
import logging
import threading
import time
from types import SimpleNamespace

import psycopg2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings

from apps.sync import arrowfeed, copier, engine
from apps.sync.models import SyncRun
from apps.sync.services import sync_config_set, sync_upload_store
from tests.factories import dataset_of_every_type
from tests.sync.fastpath_data import FIELDS, assert_same, random_rows, to_csv
from tests.sync.helpers import live_rows, terminate_backend

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("flushable_db")]


@pytest.fixture
def ds(world):
    return dataset_of_every_type(provider=world.provider, code="GA-COPY-001", fields=FIELDS)


@pytest.fixture(autouse=True)
def parallel_from_the_first_batch(monkeypatch):
    """The test files are small: copy them in parallel from the start, as a large one is."""
    monkeypatch.setattr(copier, "PARALLEL_AFTER_BYTES", 0)


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(arrowfeed, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(arrowfeed, "READ_BYTES", 2000)


def _copy_backends() -> int:
    """Copy connections still open, waiting a moment for closed ones to end."""
    deadline = time.monotonic() + 5
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s "
                "AND datname = current_database()",
                [copier.APPLICATION_NAME],
            )
            count = cursor.fetchone()[0]
        if count == 0 or time.monotonic() > deadline:
            return count
        time.sleep(0.05)


def test_a_run_in_autocommit_copies_over_two_connections_with_identical_results(
    ds, caplog, small_blocks
):
    rows = random_rows(600, 50, bad_share=0.2)
    result = assert_same(ds, caplog, [(to_csv(rows), {"batch_rows": 50})], fast_runs=1)
    assert result[0]["status"] == SyncRun.Status.SUCCEEDED
    assert any("COPY over 2 connection(s)" in r.getMessage() for r in caplog.records)
    assert _copy_backends() == 0


def test_a_threshold_abort_closes_the_copy_connections_and_is_identical(ds, caplog, small_blocks):
    rows = random_rows(1200, 51, bad_share=0.0) + random_rows(600, 52, bad_share=0.8)
    steps = [(to_csv(rows), {"threshold": 0.05, "batch_rows": 40})]
    result = assert_same(ds, caplog, steps, fast_runs=1)
    assert result[0]["status"] == SyncRun.Status.FAILED
    assert _copy_backends() == 0


def _cut_on_third_copy():
    """A BytesIO for the copier whose third COPY finds its own connection terminated."""
    copies = []
    admin_params = connection.get_connection_params()
    admin_params.pop("cursor_factory", None)

    class CuttingBytesIO(io.BytesIO):
        def __init__(self, data: bytes = b"") -> None:
            super().__init__(data)
            copies.append(threading.current_thread().name)
            if len(copies) == 3:
                me = next(c for c in _open_copiers if threading.current_thread() in c.threads)
                conn = me.conns[me.threads.index(threading.current_thread())]
                admin = psycopg2.connect(**admin_params)
                admin.autocommit = True
                with admin.cursor() as cursor:
                    cursor.execute("SELECT pg_terminate_backend(%s)", [conn.get_backend_pid()])
                admin.close()

    return CuttingBytesIO


_open_copiers: list = []


@pytest.fixture(autouse=True)
def _remember_copiers(monkeypatch):
    init = copier.ParallelCopier.__init__

    def init_and_remember(self, *args, **kwargs):
        init(self, *args, **kwargs)
        _open_copiers.append(self)

    monkeypatch.setattr(copier.ParallelCopier, "__init__", init_and_remember)
    yield
    _open_copiers.clear()


def test_a_copy_connection_breaking_mid_run_changes_nothing_and_a_retry_succeeds(
    ds, small_blocks, monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="apps.sync.fastpath")
    sync_config_set(dataset=ds, kind="csv", options={"batch_rows": 40}, scheduled=False)
    v1 = random_rows(300, 53, bad_share=0.0)
    first = sync_upload_store(dataset=ds, upload=SimpleUploadedFile("1.csv", to_csv(v1)))
    assert engine.run_execute(run_id=first.pk).status == SyncRun.Status.SUCCEEDED
    before = live_rows(ds)
    v2 = [{**r, "address": "改" + r["address"]} for r in v1[:200]] + random_rows(350, 54)[300:]
    monkeypatch.setattr(copier, "io", SimpleNamespace(BytesIO=_cut_on_third_copy()))
    run = sync_upload_store(dataset=ds, upload=SimpleUploadedFile("2.csv", to_csv(v2)))
    with pytest.raises(engine.SyncInterrupted):
        engine.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RETRYING
    assert live_rows(ds) == before
    assert _copy_backends() == 0
    monkeypatch.setattr(copier, "io", io)
    assert engine.run_execute(run_id=run.pk).status == SyncRun.Status.SUCCEEDED
    retried = live_rows(ds)
    # a clean run of the same file on the Python path gives the same records
    clean = dataset_of_every_type(provider=ds.provider, code="GA-COPY-002", fields=FIELDS)
    with override_settings(GOVDATA={**settings.GOVDATA, "SYNC_FAST_PATH": False}):
        sync_config_set(dataset=clean, kind="csv", scheduled=False)
        other = sync_upload_store(dataset=clean, upload=SimpleUploadedFile("2.csv", to_csv(v2)))
        assert engine.run_execute(run_id=other.pk).status == SyncRun.Status.SUCCEEDED
    assert retried == live_rows(clean)


def test_the_copier_raises_a_copy_error_as_djangos_exception_and_closes(ds):
    from django.db import DatabaseError

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE public.copier_probe (n bigint, t text)")
    parallel = copier.ParallelCopier("copier_probe", ["n", "t"], 2)
    parallel.statement = "COPY public.copier_probe (n, t) FROM STDIN WITH (FORMAT csv)"
    with pytest.raises(DatabaseError, match="invalid input syntax"):
        parallel.put(b"1,a\n")
        parallel.put(b"x,b\n")
        parallel.finish()
    assert _copy_backends() == 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT n FROM public.copier_probe")
        assert cursor.fetchall() in ([(1,)], [])
        cursor.execute("DROP TABLE public.copier_probe")


def test_a_small_load_is_copied_on_the_runs_own_connection(ds, caplog, small_blocks, monkeypatch):
    monkeypatch.setattr(copier, "PARALLEL_AFTER_BYTES", 8 << 20)
    rows = random_rows(300, 55, bad_share=0.1)
    result = assert_same(ds, caplog, [(to_csv(rows), {"batch_rows": 50})], fast_runs=1)
    assert result[0]["status"] == SyncRun.Status.SUCCEEDED
    assert any("COPY over 1 connection(s)" in r.getMessage() for r in caplog.records)
    assert _open_copiers == []


def test_a_load_growing_past_the_limit_moves_to_parallel_connections(
    ds, caplog, small_blocks, monkeypatch
):
    monkeypatch.setattr(copier, "PARALLEL_AFTER_BYTES", 6000)  # a few batches inline first
    rows = random_rows(600, 56, bad_share=0.1)
    result = assert_same(ds, caplog, [(to_csv(rows), {"batch_rows": 50})], fast_runs=1)
    assert result[0]["status"] == SyncRun.Status.SUCCEEDED
    assert any("COPY over 2 connection(s)" in r.getMessage() for r in caplog.records)
    assert _open_copiers  # the Python path and the fast path each moved
    assert _copy_backends() == 0


def test_a_cut_connection_during_a_copy_on_the_runs_own_connection_is_djangos_error():
    """The engine retries a run whose connection broke (Django's OperationalError) and fails one
    whose data is bad: a COPY sent by psycopg2 directly must raise the same class as a query."""
    from django.db import InterfaceError, OperationalError

    from apps.records import store

    with connection.cursor() as cursor:
        store.ensure_schema(cursor)
        cursor.execute('CREATE TABLE records."copy_cut" (a text)')
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend = cursor.fetchone()[0]
            inline = copier.InlineCopier(cursor, "copy_cut", ["a"])
            terminate_backend(backend)
            with pytest.raises((OperationalError, InterfaceError)):
                inline.put(b"x\n")
    finally:
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute('DROP TABLE records."copy_cut"')
