"""A sync worker's memory over a run, by phase (issue 4 analysis, not a target).

    .venv/bin/python benchmarks/sync_memory.py [--rows 1000000] [--runs 1] [KEY=VALUE ...]

Requests a full run of sync_bench's file on a dataset of its own and executes it in a child
process, as sync_bench measures the worker's peak; meanwhile it samples the child's RSS every
50 ms with the run's phase (SyncRun.phase), then prints the peak by phase and the RSS over time.
KEY=VALUE pairs go into the child's environment (e.g. ARROW_DEFAULT_MEMORY_POOL=jemalloc), to
compare settings in the same session; `--runs` repeats the run. Uses sync_bench's database and
files.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sync_bench  # noqa: E402


def sampled_run(path: Path, env: dict[str, str]) -> tuple[list[tuple[float, float, str]], str]:
    """[(seconds since start, RSS MB, phase)] of one run of `path` in a child, and its
    duration as the run recorded it."""
    import psutil
    from django.db import connection

    run = sync_bench._request(sync_bench._dataset("BENCH-MEMORY"), path)
    child = subprocess.Popen(
        [sys.executable, sync_bench.__file__, "--child", str(run.pk)],
        cwd=sync_bench.BASE_DIR,
        env={**os.environ, **env},
    )
    process, samples, started = psutil.Process(child.pid), [], time.perf_counter()
    while child.poll() is None:
        try:
            rss = process.memory_info().rss / 2**20
        except psutil.Error:  # the child ended between poll() and now
            break
        with connection.cursor() as cursor:
            cursor.execute("SELECT phase FROM sync_syncrun WHERE id = %s", [run.pk])
            phase = cursor.fetchone()[0] or "starting"
        samples.append((time.perf_counter() - started, rss, phase))
        time.sleep(0.05)
    run.refresh_from_db()
    return samples, f"{run.status}, {run.duration}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("env", nargs="*", help="KEY=VALUE for the child's environment")
    args = parser.parse_args()
    env = dict(pair.split("=", 1) for pair in args.env)
    big, _small, _delta, _warm = sync_bench.data_files(args.rows)
    sync_bench._setup_django()
    for i in range(args.runs):
        samples, outcome = sampled_run(big, env)
        peaks: dict[str, float] = {}
        for _t, rss, phase in samples:
            peaks[phase] = max(peaks.get(phase, 0.0), rss)
        print(f"run {i + 1} ({outcome}); peak RSS by phase, MB:")
        print("  " + ", ".join(f"{phase} {peak:.0f}" for phase, peak in peaks.items()))
        print("  every 0.5 s: " + ", ".join(f"{t:.1f}s {rss:.0f}" for t, rss, _p in samples[::10]))


if __name__ == "__main__":
    main()
