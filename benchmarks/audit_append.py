"""What appending an access event costs PostgreSQL, under concurrent readers (issue 6 analysis,
not a target).

    .venv/bin/python benchmarks/audit_append.py [--processes 4] [--reads 1500] [--rounds 3]

Each of --processes processes opens its own connection and makes --reads single-row reads,
in turns: the read alone (as with auditing off, apps.common.prepared.execute_prepared) and
the read with its event appended in the same round trip (apps.audit.chain.chain_append_read,
as the API's key lookup does: the chain trigger, the search indexes, the commit without
waiting, the synchronous flush). Prints reads per second over all processes and, per read,
the CPU time of the PostgreSQL backends (from /proc, so the server must run on this machine)
and of the Python processes. The body appended is a real lookup's. Own database:
bench_govdata_api (api_world's), whose audit log grows by the events written.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api_world  # noqa: E402

READ = (
    "SELECT json_build_object('n', g, 'name', 'name' || g)::text"
    " FROM generate_series(%s::int, %s::int) g"
)
BODY = {
    "kind": "access",
    "action": "lookup",
    "request_id": "20cd69576e154993b00727cb7c64cfd0",
    "user_id": None,
    "username": "",
    "application_id": 1,
    "application_name": "bench",
    "consumer_id": 2,
    "consumer_code": "BC",
    "provider_id": 1,
    "provider_code": "BP",
    "dataset_id": 1,
    "dataset_code": "BENCH-API-200000",
    "fields": {
        "id_number": "none",
        "name": "name",
        "gender": "none",
        "birth_date": "none",
        "mobile": "mobile",
        "address": "address",
        "district": "none",
        "education": "none",
    },
    "filters": {"id_number": "440106000000017518"},
    "purpose": "benchmark",
    "case_id": "",
    "end_user": "",
    "grant_ids": [1],
    "outcome": "allowed",
    "reason": "",
    "client_ip": "127.0.0.1",
    "target": "",
    "details": {},
}
TICKS = os.sysconf("SC_CLK_TCK")


def _backend_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def _worker(job: tuple[bool, int, int]) -> tuple[float, float]:
    """(backend CPU s, own CPU s) of `reads` reads, audited or not."""
    audited, reads, seed = job
    from django.db import connection

    from apps.audit.chain import chain_append_read
    from apps.common.prepared import execute_prepared

    def read(i: int) -> None:
        params = [i % 1000, i % 1000]
        if audited:
            chain_append_read(BODY, READ, params, started=time.perf_counter(), return_event=False)
        else:
            with connection.cursor() as cursor:
                execute_prepared(cursor, READ, params)
                cursor.fetchone()

    for i in range(50):  # connection, prepared statements, the backend's caches
        read(seed + i)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    server, own = _backend_cpu(backend), time.process_time()
    for i in range(reads):
        read(seed + i)
    return _backend_cpu(backend) - server, time.process_time() - own


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--reads", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    api_world.setup_django()
    from django.db import connections

    connections.close_all()  # each forked process opens its own
    print("| round | reads | reads/s | backend CPU ms a read | Python CPU ms a read |")
    print("| --- | --- | ---: | ---: | ---: |")
    context = multiprocessing.get_context("fork")
    with context.Pool(args.processes) as pool:
        for round_ in range(1, args.rounds + 1):
            for audited in (False, True):
                jobs = [(audited, args.reads, 1000 * p) for p in range(args.processes)]
                started = time.perf_counter()
                results = pool.map(_worker, jobs)
                wall = time.perf_counter() - started
                total = args.reads * args.processes
                backend = sum(r[0] for r in results) / total * 1000
                python = sum(r[1] for r in results) / total * 1000
                label = "with event" if audited else "alone"
                print(
                    f"| {round_} | {label} | {total / wall:,.0f} | {backend:.3f} | {python:.3f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
