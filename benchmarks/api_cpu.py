"""Where the API's CPU goes under load, by process (issues 5 and 6 analysis, not a target).

    .venv/bin/python benchmarks/api_cpu.py [--rows 200000] [--seconds 8] [--concurrency 8]

Runs the API benchmark's gunicorn (production settings, audit on, then off) and, per key lookup,
per constant-view request and per page of 1,000 records, prints the CPU time spent by the
PostgreSQL processes, the gunicorn workers and this client process (from psutil, so the server
must run on this machine), next to the wall time. On a 2-core machine a request's CPU over all
processes is what bounds the throughput. Uses api_world's dataset builder and database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import api_world  # noqa: E402

GROUPS = ("postgres", "gunicorn", "client")


def cpu_by_process(server: api_world.Server) -> dict[int, tuple[str, float]]:
    """pid -> (group, CPU seconds so far) of every process on the machine; the groups are
    "postgres backends" (client connections), "postgres other", "gunicorn" (the server's
    processes), "client" (this one) and "others"."""
    import psutil

    own = os.getpid()
    workers = {p.pid for p in psutil.Process(server.proc.pid).children(recursive=True)}
    workers.add(server.proc.pid)
    out = {}
    for proc in psutil.process_iter(["name", "cpu_times", "cmdline"]):
        times = proc.info["cpu_times"]
        if times is None:
            continue
        name = proc.info["name"] or ""
        if proc.pid == own:
            group = "client"
        elif proc.pid in workers:
            group = "gunicorn"
        elif name.startswith("postgres"):
            command = " ".join(proc.info["cmdline"] or [])
            local = "127.0.0.1" in command or "[local]" in command
            group = "postgres backends" if local else "postgres other"
        else:
            group = "others"
        out[proc.pid] = (group, times.user + times.system)
    return out


def cpu_seconds(server: api_world.Server) -> dict[str, float]:
    out = dict.fromkeys(GROUPS, 0.0)
    for group, spent in cpu_by_process(server).values():
        group = "postgres" if group.startswith("postgres") else group
        if group in out:
            out[group] += spent
    return out


def measured(server, work) -> tuple[float, dict[str, float], float]:
    """(units done, CPU ms per unit by group, wall ms per unit) of `work()`."""
    before = cpu_seconds(server)
    units, seconds = work()
    after = cpu_seconds(server)
    per = {g: (after[g] - before[g]) / units * 1000 for g in GROUPS}
    return units, per, seconds / units * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pages", type=int, default=100)
    args = parser.parse_args()
    api_world.setup_django()
    code, token = api_world.build(args.rows)
    keys = api_world.lookup_paths(code, args.rows)
    print("| audit | measure | per | wall ms | " + " | ".join(f"{g} CPU ms" for g in GROUPS) + " |")
    print("| --- | --- | --- | ---: | " + " | ".join("---:" for _ in GROUPS) + " |")
    try:
        for audit in (True, False):
            server = api_world.Server(audit=audit)
            try:
                api_world.load(keys, token, 2, args.concurrency, server.port)  # warm up
                measures = {
                    "key lookups": (
                        "request",
                        lambda s=server: api_world.load(
                            keys, token, args.seconds, args.concurrency, s.port
                        ),
                    ),
                    "constant view": (
                        "request",
                        lambda s=server: api_world.load(
                            ["/bench/constant/"], token, args.seconds, args.concurrency, s.port
                        ),
                    ),
                    "pages of 1,000, one client": (
                        "page",
                        lambda s=server: _pages(code, token, args.pages, s.port),
                    ),
                }
                for name, (unit, work) in measures.items():
                    units, per, wall = measured(server, work)
                    cpu = " | ".join(f"{per[g]:.2f}" for g in GROUPS)
                    print(f"| {'on' if audit else 'off'} | {name} | {unit} | {wall:.2f} | {cpu} |")
            finally:
                server.stop()
    finally:
        api_world.drop_tables()
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


def _pages(code: str, token: str, pages: int, port: int) -> tuple[float, float]:
    start = time.perf_counter()
    rows, _seconds = api_world.pages_http(code, token, pages, port)
    return rows / 1000, time.perf_counter() - start


if __name__ == "__main__":
    main()
