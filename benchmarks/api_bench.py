"""Agency API benchmarks (issue 5), against gunicorn with the production settings on loopback.

    .venv/bin/python benchmarks/api_bench.py [--rows 1000000] [--seconds 10] [--concurrency 8]

A dataset of --rows records with 12 fields; the consumer is granted 8 of them, 3 masked. The
baseline is a plain typed table with the same rows, created beside the platform's store.
Two servers run side by side, one with auditing and one without; each figure and its baseline
are measured in alternating rounds (--rounds), so that other work on a shared machine weighs on
both alike. --seconds and --pages are the totals per measure, split over the rounds.
BENCH_WORKERS / BENCH_THREADS set the gunicorn workers and threads (default 2 x 8).
Prints the ratios as a table and as BENCH-JSON lines (benchmarks/README.md; targets: export,
pages, lookups >= 0.5; audit on/off >= 0.9); --write-docs also appends the table to
docs/benchmark-notes.md under "Agency API". Own database: bench_govdata_api.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_world import (  # noqa: E402
    BASE_DIR,
    EIGHT,
    PLAIN,
    PORT,
    Server,
    build,
    drop_tables,
    headers,
    load,
    lookup_paths,
    pages_http,
    record_key,
    setup_django,
)


def export_http(
    server: Server, code: str, token: str, params: str = ""
) -> tuple[float, int, float]:
    import httpx

    peak, done = [0.0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], server.rss_mb())
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start, lines = time.perf_counter(), 0
    url = f"http://127.0.0.1:{server.port}/api/v1/datasets/{code}/export/?format=csv{params}"
    try:
        with httpx.stream("GET", url, headers=headers(token), timeout=600) as r:
            assert r.status_code == 200, r.read()
            for chunk in r.iter_bytes():
                lines += chunk.count(b"\n")
        elapsed = time.perf_counter() - start
    finally:
        done.set()
        watcher.join()
    return (lines - 1) / elapsed, lines - 1, peak[0]


def export_copy() -> tuple[int, float]:
    from django.db import connection

    class Sink:
        n = 0

        def write(self, data):
            self.n += data.count(b"\n") if isinstance(data, bytes) else data.count("\n")

    sink = Sink()
    start = time.perf_counter()
    with connection.cursor() as cur:
        cur.cursor.copy_expert(f"COPY (SELECT {', '.join(EIGHT)} FROM {PLAIN}) TO STDOUT", sink)
    return sink.n, time.perf_counter() - start


def pages_local(pages: int) -> tuple[int, float]:
    import orjson
    from django.db import connection

    count, last, start = 0, "", time.perf_counter()
    with connection.cursor() as cur:
        for _ in range(pages):
            cur.execute(
                f"SELECT {', '.join(EIGHT)} FROM {PLAIN} WHERE id_number > %s "
                "ORDER BY id_number LIMIT 1000",
                [last],
            )
            rows = cur.fetchall()
            orjson.dumps([dict(zip(EIGHT, r, strict=True)) for r in rows])
            count += len(rows)
            if not rows:
                break
            last = rows[-1][0]
    return count, time.perf_counter() - start


def interleaved(measures: dict, rounds: int) -> dict[str, float]:
    """Rates of several measurements taken in turns, the order rotating every round; each
    measure returns (count, seconds) for one round. Other work on the machine then weighs on
    every side alike instead of on whichever ran while it was busy."""
    names = list(measures)
    totals = {name: [0, 0.0] for name in names}
    for i in range(rounds):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            count, seconds = measures[name]()
            totals[name][0] += count
            totals[name][1] += seconds
    return {name: count / seconds for name, (count, seconds) in totals.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument(
        "--rounds", type=int, default=6, help="turns in which each pair of measures alternates"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help="also append a table to docs/benchmark-notes.md"
    )
    args = parser.parse_args()
    setup_django()
    code, token = build(args.rows)
    small = max(args.rows // 10, 1)
    small_key = record_key(small)
    keys = lookup_paths(code, args.rows)
    results: dict = {}
    rounds, per_round = args.rounds, args.seconds / args.rounds
    pages_per_round = max(1, args.pages // args.rounds)
    peak = [0.0]

    def export_round() -> tuple[int, float]:
        rate, rows, rss = export_http(on, code, token)
        peak[0] = max(peak[0], rss)
        return rows, rows / rate

    on, off = Server(audit=True), Server(audit=False, port=PORT + 1)
    try:
        results["export_small"] = export_http(on, code, token, f"&id_number__lte={small_key}")
        rates = interleaved({"export": export_round, "copy": export_copy}, rounds=4)
        results["copy"] = rates["copy"]
        results["export"] = (rates["export"], args.rows, peak[0])
        results.update(
            interleaved(
                {
                    "pages": lambda: pages_http(code, token, pages_per_round, on.port),
                    "pages_local": lambda: pages_local(pages_per_round),
                    "pages_noaudit": lambda: pages_http(code, token, pages_per_round, off.port),
                },
                rounds,
            )
        )
        results.update(
            interleaved(
                {
                    "lookup": lambda: load(keys, token, per_round, args.concurrency, on.port),
                    "constant": lambda: load(
                        ["/bench/constant/"], token, per_round, args.concurrency, on.port
                    ),
                    "lookup_noaudit": lambda: load(
                        keys, token, per_round, args.concurrency, off.port
                    ),
                },
                rounds,
            )
        )
    finally:
        on.stop()
        off.stop()
        drop_tables()
    report(args, results)


def report(args, r) -> None:
    exp_rate, exp_n, exp_rss = r["export"]
    small_rate, small_n, small_rss = r["export_small"]
    lines = [
        f"\n### Agency API — {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {args.rows:,} rows\n",
        f"Command: `.venv/bin/python benchmarks/api_bench.py --rows {args.rows} "
        f"--seconds {args.seconds:g} --concurrency {args.concurrency} --pages {args.pages} "
        f"--rounds {args.rounds}` "
        "(gunicorn gthread 2x8, production settings, loopback; 8 of 12 fields, 3 masked)\n",
        "| measure | API | baseline | ratio | target |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| export CSV records/s vs COPY plain | {exp_rate:,.0f} | {r['copy']:,.0f} | "
        f"{exp_rate / r['copy']:.2f} | 0.5 |",
        f"| pages (1000) records/s vs psycopg+orjson | {r['pages']:,.0f} | "
        f"{r['pages_local']:,.0f} | {r['pages'] / r['pages_local']:.2f} | 0.5 |",
        f"| key lookups req/s vs constant view | {r['lookup']:,.0f} | {r['constant']:,.0f} | "
        f"{r['lookup'] / r['constant']:.2f} | 0.5 |",
        f"| pages records/s audit on vs off | {r['pages']:,.0f} | {r['pages_noaudit']:,.0f} | "
        f"{r['pages'] / r['pages_noaudit']:.2f} | 0.9 |",
        f"| lookups req/s audit on vs off | {r['lookup']:,.0f} | {r['lookup_noaudit']:,.0f} | "
        f"{r['lookup'] / r['lookup_noaudit']:.2f} | 0.9 |",
        f"| server peak RSS (MiB) export {small_n:,} vs {exp_n:,} rows | {exp_rss:.0f} | "
        f"{small_rss:.0f} | {exp_rss / max(small_rss, 1):.2f} | ~1.0 |",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    print_figures(args, r)
    if args.write_docs:
        append_docs(text)


def _figure(
    name: str,
    label: str,
    value: float,
    baseline: float,
    unit: str,
    target: float,
    baseline_label: str,
    rows: int,
    op: str = ">=",
) -> dict:
    ratio = value / baseline if baseline else 0.0
    return {
        "name": name,
        "label": label,
        "value": round(ratio, 3),
        "unit": "x",
        "target": {"op": op, "value": target},
        "baseline": round(baseline, 1),
        "baseline_unit": unit,
        "baseline_label": baseline_label,
        "details": f"API {value:,.1f} {unit}; baseline {baseline:,.1f} {unit}",
        "sizes": {"rows": rows},
    }


def print_figures(args, r) -> None:
    """One BENCH-JSON line per figure (benchmarks/README.md), printed last."""
    import json

    exp_rate, exp_n, exp_rss = r["export"]
    _small_rate, small_n, small_rss = r["export_small"]
    n = args.rows
    figures = [
        _figure(
            "api.export_vs_copy",
            "Export CSV records/s through HTTP vs COPY of the plain table",
            exp_rate,
            r["copy"],
            "rows/s",
            0.5,
            "COPY (SELECT the same 8 columns FROM plain table) TO STDOUT",
            n,
        ),
        _figure(
            "api.pages_vs_psycopg",
            "Paginated JSON (page_size=1000) records/s vs psycopg + orjson",
            r["pages"],
            r["pages_local"],
            "rows/s",
            0.5,
            "psycopg keyset pages of the plain table serialised with orjson",
            n,
        ),
        _figure(
            "api.lookup_vs_constant",
            "Key lookups req/s vs a constant JSON view",
            r["lookup"],
            r["constant"],
            "req/s",
            0.5,
            "bare Django view returning constant JSON, same gunicorn",
            n,
        ),
        _figure(
            "api.pages_audit_on_vs_off",
            "Pages records/s with audit on vs off",
            r["pages"],
            r["pages_noaudit"],
            "rows/s",
            0.9,
            "same pages with AUDIT_ENABLED=False",
            n,
        ),
        _figure(
            "api.lookup_audit_on_vs_off",
            "Lookups req/s with audit on vs off",
            r["lookup"],
            r["lookup_noaudit"],
            "req/s",
            0.9,
            "same lookups with AUDIT_ENABLED=False",
            n,
        ),
        {
            "name": "api.export_memory_flat",
            "label": f"Server peak RSS exporting {exp_n:,} vs {small_n:,} rows",
            "value": round(exp_rss / max(small_rss, 1), 3),
            "unit": "x",
            "target": {"op": "<=", "value": 1.1},
            "baseline": round(small_rss, 1),
            "baseline_unit": "MB",
            "baseline_label": f"peak RSS exporting {small_n:,} rows",
            "details": f"peak RSS {exp_rss:.0f} MiB at {exp_n:,} rows, {small_rss:.0f} MiB at "
            f"{small_n:,} rows",
            "sizes": {"rows": n},
        },
    ]
    for figure in figures:
        print("BENCH-JSON " + json.dumps(figure, ensure_ascii=False))


def append_docs(text: str) -> None:
    doc = BASE_DIR / "docs" / "benchmark-notes.md"
    existing = doc.read_text() if doc.exists() else "# Benchmarks\n"
    heading = "\n## Agency API\n"
    if heading not in existing:
        existing += heading
    # Append at the end of our own section, before the next "## " heading of another area.
    start = existing.index(heading) + len(heading)
    end = existing.find("\n## ", start)
    end = len(existing) if end == -1 else end
    doc.write_text(existing[:end].rstrip("\n") + "\n" + text + existing[end:])


if __name__ == "__main__":
    main()
