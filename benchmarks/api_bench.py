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
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
SETTINGS = "benchmarks.api_bench_settings"
PORT = 18765
FIELDS = [  # name, type, sharing, mask
    ("id_number", "id_card", "conditional", "none"),
    ("name", "string", "conditional", "name"),
    ("gender", "enum", "unconditional", "none"),
    ("birth_date", "date", "conditional", "none"),
    ("mobile", "mobile", "conditional", "mobile"),
    ("address", "string", "conditional", "address"),
    ("district", "string", "unconditional", "none"),
    ("education", "string", "unconditional", "none"),
    ("street", "string", "none", "redact"),
    ("marital", "string", "none", "redact"),
    ("income", "decimal", "none", "redact"),
    ("updated", "date", "none", "redact"),
]
GRANTED = ["id_number", "name", "birth_date", "mobile", "address"]
EIGHT = [f[0] for f in FIELDS[:8]]
PLAIN = "records.bench_plain"


def setup_django() -> None:
    import secrets

    from config import services

    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(64))
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    url = services.resolve_database_url().rsplit("/", 1)[0] + "/bench_govdata_api"
    os.environ["DATABASE_URL"] = url
    services.resolve_all()
    services.ensure_database_exists(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def record_key(n: int) -> str:
    """The key (id_number) of the n-th record `build` makes, from 1."""
    return f"440106{n:012d}"


def lookup_paths(code: str, rows: int, count: int = 1000) -> list[str]:
    """Key-lookup URLs of `count` records picked at random among the `rows` that `build` made."""
    return [
        f"/api/v1/datasets/{code}/records/{record_key(n)}/"
        for n in random.sample(range(1, rows + 1), min(count, rows))
    ]


def build(rows: int) -> tuple[str, str]:
    """The dataset, its records, a grant and a token; returns (dataset code, bearer token)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from oauth2_provider.models import AccessToken

    from apps.api.services import application_create
    from apps.catalog.models import Dataset, Field
    from apps.common import clock
    from apps.departments.models import Department
    from apps.departments.services import department_create, membership_add
    from apps.records.store import live_table, store_ensure_table
    from apps.sharing.services import request_approve, request_submit

    code = f"BENCH-API-{rows}-{time.time_ns() % 10**9}"  # grants protect earlier runs' rows
    user_model = get_user_model()
    prov = Department.objects.filter(code="BP").first() or department_create(code="BP", name="P")
    cons = Department.objects.filter(code="BC").first() or department_create(code="BC", name="C")
    po, _ = user_model.objects.get_or_create(username="bench-po")
    co, _ = user_model.objects.get_or_create(username="bench-co")
    membership_add(user=po, department=prov, role="officer")
    membership_add(user=co, department=cons, role="officer")
    ds = Dataset.objects.create(
        code=code,
        name="bench",
        provider=prov,
        key_field="id_number",
        sharing_type="conditional",
        legal_basis="bench",
        status="published",
        version=1,
    )
    for i, (name, dtype, sharing, mask) in enumerate(FIELDS):
        Field.objects.create(
            dataset=ds,
            name=name,
            label=name,
            data_type=dtype,
            sharing_type=sharing,
            masking=mask,
            published_sharing_type=sharing,
            published_masking=mask,
            position=i,
            legal_basis="" if sharing == "unconditional" else "bench",
            enum_values=["男", "女"] if dtype == "enum" else [],
        )
    table = store_ensure_table(ds)
    fill = f"""
        SELECT '440106' || lpad(g::text, 12, '0'), '张' || g,
               CASE WHEN g % 2 = 0 THEN '男' ELSE '女' END,
               date '1950-01-01' + (g % 20000), '138' || lpad((g % 100000000)::text, 8, '0'),
               '广东省广州市天河区体育西路' || g || '号', '天河区', '本科', 'street' || g, '已婚',
               (g % 100000)::numeric, date '2024-01-01'
        FROM generate_series(1, {rows}) AS g"""
    with connection.cursor() as cur:
        cur.execute(f'TRUNCATE records."{table}"')
        cur.execute(f'INSERT INTO records."{table}" {fill}')
        cur.execute(f'ANALYZE records."{table}"')
        cur.execute(f"DROP TABLE IF EXISTS {PLAIN}")
        cur.execute(
            f"CREATE TABLE {PLAIN} (id_number text PRIMARY KEY, name text, gender text, "
            "birth_date date, mobile text, address text, district text, education text, "
            "street text, marital text, income numeric, updated date)"
        )
        cur.execute(f"INSERT INTO {PLAIN} {fill}")
        cur.execute(f"ANALYZE {PLAIN}")
    assert live_table(ds.pk) == table
    req = request_submit(
        consumer=cons,
        dataset=ds,
        fields=GRANTED,
        purpose="bench",
        legal_basis="bench",
        valid_until=clock.today() + dt.timedelta(days=30),
        by=co,
    )
    request_approve(request=req, by=po)
    agency, _ = application_create(department=cons, name=f"bench-{rows}")
    token = AccessToken.objects.create(
        application=agency.application,
        token=f"bench-{agency.pk}-{time.time_ns()}",
        expires=clock.now() + dt.timedelta(days=1),
        scope="read",
    )
    return code, token.token


class Server:
    def __init__(self, audit: bool, port: int = PORT) -> None:
        self.port = port
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": SETTINGS,
            "BENCH_AUDIT": "1" if audit else "0",
            "PYTHONPATH": str(BASE_DIR),
        }
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "config.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                os.environ.get("BENCH_WORKERS", "2"),
                "--threads",
                os.environ.get("BENCH_THREADS", "8"),
                "--worker-class",
                "gthread",
                "--control-socket",
                f"/tmp/api-bench-{port}.ctl",
            ],
            cwd=BASE_DIR,
            env=env,
            start_new_session=True,
        )
        import httpx

        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def rss_mb(self) -> float:
        import psutil

        try:
            children = psutil.Process(self.proc.pid).children()
            return max((c.memory_info().rss for c in children), default=0) / 2**20
        except psutil.Error:  # a worker restarting, or the server gone
            return 0.0

    def stop(self) -> None:
        import signal

        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=30)


def headers(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "X-Purpose": "benchmark"}


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


def pages_http(code: str, token: str, pages: int, port: int = PORT) -> tuple[int, float]:
    import httpx
    import orjson

    url = f"http://127.0.0.1:{port}/api/v1/datasets/{code}/records/?page_size=1000"
    count, start = 0, time.perf_counter()
    with httpx.Client(headers=headers(token), timeout=60) as client:
        for _ in range(pages):
            # Parsed whole, with the same JSON library the baseline serialises with.
            body = orjson.loads(client.get(url).content)
            count += len(body["results"])
            url = body["next"]
            if not url:
                break
    return count, time.perf_counter() - start


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


def load(
    paths: list[str], token: str, seconds: float, concurrency: int, port: int = PORT
) -> tuple[int, float]:
    import httpx

    counts, stop = [0] * concurrency, time.perf_counter() + seconds

    def run(i: int) -> None:
        with httpx.Client(headers=headers(token), timeout=30) as client:
            while time.perf_counter() < stop:
                r = client.get(f"http://127.0.0.1:{port}{random.choice(paths)}")
                assert r.status_code == 200, r.text[:200]
                counts[i] += 1

    threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts), time.perf_counter() - start


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


def _drop_tables() -> None:
    """The rows are not needed after the run; the catalogue entries stay (grants protect them)."""
    from django.db import connection

    from apps.catalog.models import Dataset
    from apps.records.store import live_table

    with connection.cursor() as cur:
        for pk in Dataset.objects.filter(code__startswith="BENCH-API-").values_list(
            "pk", flat=True
        ):
            cur.execute(f'DROP TABLE IF EXISTS records."{live_table(pk)}"')
        cur.execute(f"DROP TABLE IF EXISTS {PLAIN}")


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
        _drop_tables()
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
