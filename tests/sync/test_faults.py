"""Fault tests: the worker process is SIGKILLed at several points of a run, or its database
connection is cut mid-run. After each, the published data is exactly as before, and re-running
the same run gives row for row what a clean run of the same source gives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from apps.sync import engine
from apps.sync.models import SyncRun
from apps.sync.services import sync_config_set, sync_upload_store
from tests.conftest import build_population_dataset
from tests.sync.helpers import live_rows, population_rows, terminate_backend, write_csv

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("flushable_db")]
WORKER = Path(__file__).with_name("run_worker.py")


def _database_url() -> str:
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    host = f"{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}"
    return f"postgres://{s['USER']}{password}@{host}/{s['NAME']}"


def _upload(dataset, path: Path) -> SyncRun:
    return sync_upload_store(
        dataset=dataset, upload=SimpleUploadedFile(path.name, path.read_bytes()), enqueue=False
    )


def _run_until_done(run_id: int) -> SyncRun:
    """Re-run (as a redelivered task would), waiting while the dead worker's lock is released."""
    deadline = time.monotonic() + 20
    while True:
        try:
            return engine.run_execute(run_id=run_id)
        except engine.SyncBusy:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _start_paused(run_id: int, point: str, marker: Path) -> tuple[subprocess.Popen, int]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "GOVDATA_SYNC_PAUSE_AT": point,
        "GOVDATA_SYNC_PAUSE_FILE": str(marker),
    }
    proc = subprocess.Popen([sys.executable, str(WORKER), str(run_id)], env=env)
    deadline = time.monotonic() + 60
    while not marker.exists() or not marker.read_text():
        assert proc.poll() is None, f"worker exited early with {proc.returncode}"
        assert time.monotonic() < deadline, "worker never reached the pause point"
        time.sleep(0.05)
    time.sleep(0.05)
    return proc, int(marker.read_text().split()[1])


@pytest.fixture
def scenario(world, tmp_path):
    """Dataset with version 1 published, a version 2 file, and the rows a clean run of v2 gives."""
    sync_config_set(dataset=world.dataset, kind="csv", options={"batch_rows": 40}, scheduled=False)
    v1 = population_rows(120, seed=21)
    run = engine.run_execute(run_id=_upload(world.dataset, write_csv(tmp_path / "v1.csv", v1)).pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    v2 = [{**r, "district": "白云区"} for r in v1[:100]] + population_rows(150, seed=22)[120:]
    v2_path = write_csv(tmp_path / "v2.csv", v2)
    clean_dataset, _ = build_population_dataset(world.provider, code="GA-RK-CLEAN")
    sync_config_set(dataset=clean_dataset, kind="csv", scheduled=False)
    clean = engine.run_execute(run_id=_upload(clean_dataset, v2_path).pk)
    assert clean.status == SyncRun.Status.SUCCEEDED, clean.error
    return world.dataset, live_rows(world.dataset), v2_path, live_rows(clean_dataset)


@pytest.mark.parametrize("point", ["mid_copy", "after_read", "before_publish", "in_publish"])
def test_sigkill_leaves_published_data_unchanged_and_rerun_equals_clean_run(
    scenario, tmp_path, point
):
    dataset, before, v2_path, expected = scenario
    run = _upload(dataset, v2_path)
    proc, _backend = _start_paused(run.pk, point, tmp_path / "pause")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert live_rows(dataset) == before
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RUNNING  # the killed attempt never finished
    rerun = _run_until_done(run.pk)
    assert rerun.status == SyncRun.Status.SUCCEEDED, rerun.error
    assert rerun.attempts == 2
    assert live_rows(dataset) == expected
    assert (rerun.rows_inserted, rerun.rows_updated, rerun.rows_removed) == (30, 100, 20)


def test_connection_cut_mid_run_leaves_published_data_and_rerun_equals_clean_run(
    scenario, tmp_path
):
    dataset, before, v2_path, expected = scenario
    run = _upload(dataset, v2_path)
    marker = tmp_path / "pause"
    proc, backend = _start_paused(run.pk, "mid_copy", marker)
    terminate_backend(backend)
    marker.unlink()  # let the worker continue into its dead connection
    assert proc.wait(timeout=30) != 0
    assert live_rows(dataset) == before
    run.refresh_from_db()
    assert run.status in (SyncRun.Status.RUNNING, SyncRun.Status.RETRYING)
    rerun = _run_until_done(run.pk)
    assert rerun.status == SyncRun.Status.SUCCEEDED, rerun.error
    assert live_rows(dataset) == expected


def test_finished_run_is_not_executed_again(scenario, tmp_path):
    dataset, _before, v2_path, expected = scenario
    run = engine.run_execute(run_id=_upload(dataset, v2_path).pk)
    again = engine.run_execute(run_id=run.pk)
    assert again.attempts == run.attempts == 1
    assert live_rows(dataset) == expected
