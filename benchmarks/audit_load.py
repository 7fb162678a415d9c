"""What auditing costs key lookups under load (issue 6 analysis, not a target).

    .venv/bin/python benchmarks/audit_load.py [--rows 200000] [--seconds 8] [--rounds 2]

Runs the API benchmark's gunicorn (production settings) with audit on and off, alternating,
under api_world's lookup load, and for each run prints: requests/s; the machine's CPU use by
kind (/proc/stat); CPU per request by process group (PostgreSQL backends, gunicorn workers,
this client, others, from psutil); WAL records, bytes, writes and flushes per request
(pg_stat_wal); and what the active backends were waiting on (pg_stat_activity sampled every
few milliseconds). Uses api_world's dataset builder and database; the server must run on
this machine.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import api_world  # noqa: E402
from api_cpu import cpu_by_process  # noqa: E402

CPU_KINDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
WAL = ("records", "full-page images", "bytes", "writes", "flushes")


def machine_cpu() -> list[int]:
    with open("/proc/stat", encoding="ascii") as fh:
        return [int(v) for v in fh.readline().split()[1 : 1 + len(CPU_KINDS)]]


def wal_counters(cursor) -> tuple[int, ...]:
    cursor.execute("SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync FROM pg_stat_wal")
    return tuple(int(v) for v in cursor.fetchone())


def sample_waits(stop: threading.Event, seen: collections.Counter) -> None:
    from django.db import connections

    connection = connections.create_connection("default")
    try:
        with connection.cursor() as cursor:
            while not stop.is_set():
                cursor.execute(
                    "SELECT coalesce(wait_event_type || ':' || wait_event, 'on CPU')"
                    " FROM pg_stat_activity WHERE backend_type = 'client backend'"
                    " AND pid <> pg_backend_pid() AND state = 'active'"
                )
                for (wait,) in cursor.fetchall():
                    seen[wait] += 1
                seen[None] += 1
                time.sleep(0.003)
    finally:
        connection.close()


def measure(server: api_world.Server, keys: list[str], token: str, seconds: float) -> None:
    from django.db import connection

    seen: collections.Counter = collections.Counter()
    stop = threading.Event()
    sampler = threading.Thread(target=sample_waits, args=(stop, seen))
    with connection.cursor() as cursor:
        wal_before, cpu_before = wal_counters(cursor), machine_cpu()
        procs_before = cpu_by_process(server)
        sampler.start()
        try:
            done, elapsed = api_world.load(keys, token, seconds, 8, server.port)
        finally:
            stop.set()
            sampler.join()
        procs_after, cpu_after = cpu_by_process(server), machine_cpu()
        wal_after = wal_counters(cursor)
    total = sum(cpu_after) - sum(cpu_before)
    shares = ", ".join(
        f"{kind} {100 * (b - a) / total:.1f}%"
        for kind, a, b in zip(CPU_KINDS, cpu_before, cpu_after, strict=True)
    )
    groups: collections.Counter = collections.Counter()
    for pid, (group, spent) in procs_after.items():
        groups[group] += spent - procs_before.get(pid, (group, 0.0))[1]
    print(f"  {done / elapsed:.0f} requests/s; machine CPU: {shares}")
    print(
        "  CPU ms per request: "
        + ", ".join(f"{g} {1000 * v / done:.2f}" for g, v in groups.most_common())
    )
    print(
        "  WAL per request: "
        + ", ".join(
            f"{name} {(b - a) / done:.2f}"
            for name, a, b in zip(WAL, wal_before, wal_after, strict=True)
        )
    )
    samples = seen.pop(None, 0) or 1
    print(
        "  active backends waiting on (share of samples): "
        + ", ".join(f"{wait} {n / samples:.2f}" for wait, n in seen.most_common(6))
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    api_world.setup_django()
    code, token = api_world.build(args.rows)
    keys = api_world.lookup_paths(code, args.rows)
    try:
        for _ in range(args.rounds):
            for audit in (True, False):
                server = api_world.Server(audit=audit)
                try:
                    api_world.load(keys, token, 2, 8, server.port)  # warm up
                    print(f"audit {'on' if audit else 'off'}:", flush=True)
                    measure(server, keys, token, args.seconds)
                finally:
                    server.stop()
    finally:
        api_world.drop_tables()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
