"""Where a sync run's time goes (issue 4 analysis, not a target).

    .venv/bin/python benchmarks/sync_phases.py [--rows 1000000] [--rounds 2] [--new-worker N]

In one process, as a worker serves runs: a first load of sync_bench's file, then `--rounds`
times a full run of the same file over the loaded dataset (it counts what it changes) and an
incremental run of the 1% delta. For each run it prints the wall time of its phases (loading:
reading, validating and COPY into staging; the key index; the change count; the upsert) and how
busy the machine's CPUs were meanwhile. `--new-worker N` then runs one more full run and, in a
new process as sync_bench measures it (a warm-up run on another dataset first), N incremental
runs. Uses sync_bench's database and files.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sync_bench  # noqa: E402

DATASET = "BENCH-PHASES"
# (module, function) -> the phase it is
PHASES = {
    ("apps.sync.fastpath", "fast_load"): "load",
    ("apps.sync.publish", "index_staging"): "key index",
    ("apps.records.store", "full_diff_counts"): "change count",
    ("apps.records.store", "staging_upsert"): "upsert",
}


def cpu_times() -> tuple[int, int]:
    """(all jiffies, idle jiffies) of the machine."""
    with open("/proc/stat", encoding="ascii") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return sum(values), values[3] + values[4]


@contextlib.contextmanager
def timed_phases(spent: dict[str, tuple[float, float]]) -> Iterator[None]:
    """Times every call of the PHASES functions into spent[phase] = (seconds, CPU busy share),
    restoring them afterwards. Each is wrapped where the engine looks it up (its own module
    and the engine modules that imported it by name)."""
    import importlib

    patched = []
    for (module_name, name), phase in PHASES.items():
        original = getattr(importlib.import_module(module_name), name)

        @functools.wraps(original)
        def wrapper(*args, _original=original, _phase=phase, **kwargs):
            started, (total, idle) = time.perf_counter(), cpu_times()
            try:
                return _original(*args, **kwargs)
            finally:
                seconds = time.perf_counter() - started
                total2, idle2 = cpu_times()
                busy = 1 - (idle2 - idle) / max(1, total2 - total)
                spent[_phase] = (spent.get(_phase, (0.0, 0.0))[0] + seconds, busy)

        for holder in ("apps.sync.engine", "apps.sync.publish", module_name):
            module = importlib.import_module(holder)
            if getattr(module, name, None) is original:
                patched.append((module, name, original))
                setattr(module, name, wrapper)
    try:
        yield
    finally:
        for module, name, original in patched:
            setattr(module, name, original)


def run_timed(dataset, label: str, path: Path, mode: str) -> None:
    """Request and execute one run in this process; print its row of the table."""
    from apps.sync.engine import run_execute

    run = sync_bench._request(dataset, path, mode)
    spent: dict[str, tuple[float, float]] = {}
    with timed_phases(spent):
        started = time.perf_counter()
        run = run_execute(run_id=run.pk)
        total = time.perf_counter() - started
    if run.status != "succeeded":
        raise SystemExit(f"{label}: {run.status}: {run.error}")
    cells = [
        f"{spent[p][0]:.3f} ({100 * spent[p][1]:.0f}% busy)" if p in spent else ""
        for p in dict.fromkeys(PHASES.values())
    ]
    print(f"| {label} | {total:.3f} | " + " | ".join(cells) + " |", flush=True)


def fresh_worker(rows: int, incrementals: int) -> None:
    """In this new process, as a newly started worker: one run of the 1,000-row file on another
    dataset (sync_bench's warm-up), then `incrementals` 1% runs on the loaded dataset."""
    _big, _small, delta, warm = sync_bench.data_files(rows)
    sync_bench._setup_django()
    from apps.catalog.models import Dataset

    dataset = Dataset.objects.get(code=DATASET)
    run_timed(sync_bench._dataset(f"{DATASET}-WARM"), "new worker: warm-up", warm, "full")
    for i in range(incrementals):
        run_timed(dataset, f"new worker: incremental 1% #{i + 1}", delta, "incremental")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--new-worker",
        type=int,
        default=0,
        metavar="N",
        help="then, in a new process, a warm-up run and N incremental runs",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        fresh_worker(args.rows, args.child)
        return
    big, _small, delta, _warm = sync_bench.data_files(args.rows)
    sync_bench._setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    dataset = sync_bench._dataset(DATASET)
    runs = [("first load", big, "full")]
    runs += [("full over loaded", big, "full"), ("incremental 1%", delta, "incremental")] * (
        args.rounds
    )
    print("| run | total s | " + " | ".join(dict.fromkeys(PHASES.values())) + " |")
    print("| --- | ---: |" + " ---: |" * len(set(PHASES.values())))
    try:
        for label, path, mode in runs:
            run_timed(dataset, label, path, mode)
        if args.new_worker:
            run_timed(dataset, "full over loaded", big, "full")
            child = ["--rows", str(args.rows), "--child", str(args.new_worker)]
            subprocess.run([sys.executable, __file__, *child], check=True)
    finally:
        from django.db import connection

        from apps.records import store

        with connection.cursor() as cursor:
            store.drop_table(cursor, store.live_table(dataset.pk))


if __name__ == "__main__":
    main()
