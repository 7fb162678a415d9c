"""What auditing costs one record read, split by process (issue 6 analysis, not a target).

    .venv/bin/python benchmarks/audit_cost.py [--rows 200000] [--lookups 1000] [--rounds 3]

Key lookups through the Django test client on one connection (no HTTP, no concurrency), audit
on and off alternating; per lookup: wall time, CPU of this Python process and CPU of its
PostgreSQL backend (from /proc, so the server must run on this machine). Uses the API
benchmark's dataset builder and database (bench_govdata_api). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import api_world  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--lookups", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    api_world.setup_django()
    import psutil
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    code, token = api_world.build(args.rows)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_X_PURPOSE="benchmark")
    keys = api_world.lookup_paths(code, args.rows, count=500)
    for key in keys[:50]:  # connection, prepared statements, caches
        client.get(key)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cursor.fetchone()[0])

    def backend_cpu() -> float:
        times = backend.cpu_times()
        return times.user + times.system

    print("| audit | wall ms | Python CPU ms | backend CPU ms |\n| --- | ---: | ---: | ---: |")
    n = args.lookups
    try:
        for _ in range(args.rounds):
            for audit in (True, False):
                settings.GOVDATA = {**settings.GOVDATA, "AUDIT_ENABLED": audit}
                b0, p0, t0 = backend_cpu(), time.process_time(), time.perf_counter()
                for i in range(n):
                    client.get(keys[i % len(keys)])
                wall = (time.perf_counter() - t0) / n * 1000
                python = (time.process_time() - p0) / n * 1000
                server = (backend_cpu() - b0) / n * 1000
                print(f"| {'on' if audit else 'off'} | {wall:.3f} | {python:.3f} | {server:.3f} |")
    finally:
        api_world.drop_tables()


if __name__ == "__main__":
    main()
