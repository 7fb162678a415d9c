"""The production server configuration (gunicorn, gthread workers) on a free loopback port,
serving the pytest test database. Tests that use it need `transactional_db`: the server is another
process and only sees committed data."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """DATABASE_URL with the database name swapped for the one pytest-django created."""
    from django.db import connection

    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + connection.settings_dict["NAME"]))


def server_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=test_database_url(),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def wait_http(url: str, *, timeout: float = 60, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(url, timeout=2) as response,  # noqa: S310 - loopback
        ):
            if response.status == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


_static_collected = False


def collect_static() -> None:
    """Static files for the server to serve (WhiteNoise serves STATIC_ROOT, as in production):
    without them the admin pages come out unstyled. Once per test session; later calls only
    copy what changed."""
    global _static_collected
    if not _static_collected:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=BASE_DIR,
            env=server_env(),
            check=True,
        )
        _static_collected = True


@contextlib.contextmanager
def gunicorn_server(
    *, workers: int = 2, threads: int = 4, log_path: Path | None = None, **env: str
) -> Iterator[str]:
    """Yield the base URL (http://127.0.0.1:PORT) of a gunicorn serving config.wsgi."""
    collect_static()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    origins = f"{base},http://localhost:{port}"
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    cmd = [
        str(BIN / "gunicorn"),
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--config",
        "python:config.gunicorn_conf",
        "--timeout",
        "60",
        "--graceful-timeout",
        "5",
        "--control-socket",
        f"/tmp/govdata-gunicorn-{port}.ctl",
    ]
    proc = subprocess.Popen(
        cmd,
        cwd=BASE_DIR,
        env=server_env(CSRF_TRUSTED_ORIGINS=origins, **env),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_http(base + "/healthz", proc=proc)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log_path:
            log.close()
        _wait_for_server_sessions_to_end()


def _wait_for_server_sessions_to_end(timeout: float = 5) -> None:
    """PostgreSQL ends a backend shortly after its client goes: wait, so that dropping the
    test database at the end of the session does not find it still in use."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND application_name = 'govdata'"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.1)


# --- A committed world for tests against the live server -----------------------------------


@dataclass
class LiveWorld:
    base: Any  # tests.conftest.World
    client_id: str
    client_secret: str
    request_id: int
    keys: list[str]


GRANTED = ["id_number", "name", "birth_date", "mobile"]
PURPOSE_HEADERS = {"X-Purpose": "核酸检测结果比对", "X-Case-Id": "CASE-1"}


def population_rows(count: int) -> list[dict]:
    districts = ["天河区", "越秀区", "海珠区", None]
    names = ["张三", "李四", "王五", "欧阳娜娜", "赵", ""]
    return [
        {
            "id_number": f"4401061990{i:08d}",
            "name": names[i % len(names)],
            "gender": "男" if i % 2 else "女",
            "birth_date": dt.date(1950 + i % 60, 1 + i % 12, 1 + i % 28),
            "mobile": f"138{i:08d}",
            "address": f"广东省广州市{districts[i % 3]}体育西路{i}号",
            "district": districts[i % len(districts)],
            "religion": "秘密信仰",
        }
        for i in range(count)
    ]


def live_world_build(world, *, rows: int = 300) -> LiveWorld:
    from apps.api.services import application_create
    from apps.common import clock
    from apps.records.store import store_ensure_table, store_replace_rows
    from apps.sharing.services import request_approve
    from apps.sharing.submission import request_submit

    data = population_rows(rows)
    store_ensure_table(world.dataset)
    store_replace_rows(world.dataset, data)
    req = request_submit(
        consumer=world.consumer,
        dataset=world.dataset,
        fields=GRANTED,
        purpose="疫情防控",
        legal_basis="《传染病防治法》",
        valid_until=clock.today() + dt.timedelta(days=30),
        by=world.consumer_officer,
    )
    request_approve(request=req, by=world.provider_officer)
    agency, secret = application_create(
        department=world.consumer, name="app-WJ-live", scopes="read requests"
    )
    return LiveWorld(
        base=world,
        client_id=agency.application.client_id,
        client_secret=secret,
        request_id=req.pk,
        keys=[r["id_number"] for r in data],
    )


def fetch_token(base_url: str, client_id: str, client_secret: str, scope: str = "read") -> str:
    import httpx

    response = httpx.post(
        base_url + "/oauth/token/",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": scope,
        },
        timeout=30,
    )
    response.raise_for_status()
    return response.json()["access_token"]


def _reset_role(**kwargs) -> None:
    from django.db import connection
    from django.db.models.signals import post_migrate

    post_migrate.disconnect(_reset_role, dispatch_uid="proof-tests-reset-role")
    with connection.cursor() as cursor:
        cursor.execute("RESET session_replication_role")


@pytest.fixture
def flushable_db(transactional_db):
    """The flush after a transactional test TRUNCATEs, which the audit log's append-only
    triggers refuse: flush with triggers off, and reset the role afterwards."""
    from django.db import DEFAULT_DB_ALIAS, connection, connections
    from django.db.models.signals import post_migrate

    yield
    for conn in connections.all(initialized_only=True):
        if conn.alias != DEFAULT_DB_ALIAS:  # a mirror alias would keep the test database open
            conn.close()
    post_migrate.connect(_reset_role, dispatch_uid="proof-tests-reset-role", weak=False)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def live_world(flushable_db, world) -> LiveWorld:
    return live_world_build(world)


@pytest.fixture
def live_server_url(flushable_db, tmp_path) -> Iterator[str]:
    with gunicorn_server(log_path=tmp_path / "gunicorn.log") as url:
        yield url
