"""Record store design benchmark: one typed table per dataset vs one shared JSONB table.

Measures, on N rows (default 1,000,000) of a 12-column population dataset with valid resident
ID numbers: load time (COPY + indexes), key lookups, a filtered + ordered page query with a
projection, and a projected export (COPY of a query to STDOUT). Runs in its own database
(`govdata_bench`, a schema per run) on the server config.services resolves, and drops its
tables afterwards.

    .venv/bin/python benchmarks/store_design.py [--rows 1000000] [--lookups 2000]

The figures and the decision are in docs/architecture.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import platform
import random
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

import orjson
import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import services  # noqa: E402
from fixtures.generate import (  # noqa: E402
    DISTRICTS,
    ETHNICITIES,
    make_id_number,
    make_mobile,
    make_name,
    random_date,
)

COLUMNS = [
    ("id_number", "text"),
    ("name", "text"),
    ("gender", "text"),
    ("birth_date", "date"),
    ("ethnicity", "text"),
    ("mobile", "text"),
    ("address", "text"),
    ("district", "text"),
    ("household_no", "text"),
    ("registered_on", "date"),
    ("household_size", "bigint"),
    ("income", "numeric"),
]
PROJECTION = ["id_number", "name", "birth_date", "district"]
PAGE_DISTRICT = "天河区"
PAGE_SINCE = "1985-01-01"


def generate_rows(count: int, seed: int = 7) -> list[tuple]:
    rng = random.Random(seed)
    rows, seen, sequence = [], set(), 0
    regions = list(DISTRICTS)
    while len(rows) < count:
        region = rng.choice(regions)
        birth = random_date(rng, dt.date(1940, 1, 1), dt.date(2020, 12, 31))
        male = rng.random() < 0.5
        id_number = make_id_number(region, birth, sequence, male=male)
        sequence += 1
        if id_number in seen:
            continue
        seen.add(id_number)
        district = DISTRICTS[region]
        rows.append(
            (
                id_number,
                make_name(rng),
                "男" if male else "女",
                birth,
                rng.choice(ETHNICITIES),
                make_mobile(rng),
                f"广东省广州市{district}中山路{rng.randrange(1, 999)}号",
                district,
                f"H{len(rows):09d}",
                random_date(rng, dt.date(2000, 1, 1), dt.date(2025, 12, 31)),
                rng.randint(1, 6),
                Decimal(rng.randint(0, 2_000_000)) / 100,
            )
        )
    return rows


def _copy_text(rows: list[tuple]) -> io.StringIO:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(str(v) for v in row))
        buffer.write("\n")
    buffer.seek(0)
    return buffer


def _jsonb_text(rows: list[tuple]) -> io.StringIO:
    buffer = io.StringIO()
    names = [c for c, _t in COLUMNS]
    for row in rows:
        data = orjson.dumps(dict(zip(names, row, strict=True)), default=str).decode()
        data = data.replace("\\", "\\\\")  # COPY text format escapes backslashes
        buffer.write(f"1\t{row[0]}\t{data}\n")
    buffer.seek(0)
    return buffer


class NullSink(io.RawIOBase):
    def __init__(self) -> None:
        self.bytes = 0

    def write(self, b) -> int:
        self.bytes += len(b)
        return len(b)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _size(cur, table: str) -> str:
    cur.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [table])
    return cur.fetchone()[0]


class Design:
    name: str
    table: str
    lookup_sql: str
    page_sql: str
    export_sql: str

    def load(self, cur, rows: list[tuple]) -> None: ...


class TypedTable(Design):
    name = "typed table per dataset"
    table = "d1"
    lookup_sql = "SELECT id_number, name, district FROM d1 WHERE id_number = %s"
    page_sql = (
        "SELECT id_number, name, birth_date, district FROM d1 "
        "WHERE district = %s AND birth_date >= %s ORDER BY birth_date, id_number LIMIT 100"
    )
    export_sql = (
        "COPY (SELECT id_number, name, birth_date, district FROM d1 "
        "ORDER BY id_number) TO STDOUT WITH CSV"
    )

    def load(self, cur, rows):
        cols = ", ".join(f"{c} {t}" for c, t in COLUMNS)
        cur.execute(f"CREATE TABLE d1 ({cols})")
        cur.copy_expert("COPY d1 FROM STDIN", _copy_text(rows))
        cur.execute("CREATE UNIQUE INDEX d1_key ON d1 (id_number)")
        # Filterable columns get a b-tree each, as the store does for fields granted in clear.
        cur.execute("CREATE INDEX d1_district ON d1 (district, birth_date)")
        cur.execute("ANALYZE d1")


class JsonbTable(Design):
    name = "shared JSONB table"
    table = "records"
    lookup_sql = (
        "SELECT data->>'id_number', data->>'name', data->>'district' FROM records "
        "WHERE dataset_id = 1 AND key = %s"
    )
    page_sql = (
        "SELECT data->>'id_number', data->>'name', data->>'birth_date', data->>'district' "
        "FROM records WHERE dataset_id = 1 AND data @> jsonb_build_object('district', %s) "
        "AND data->>'birth_date' >= %s ORDER BY data->>'birth_date', key LIMIT 100"
    )
    export_sql = (
        "COPY (SELECT data->>'id_number', data->>'name', data->>'birth_date', data->>'district' "
        "FROM records WHERE dataset_id = 1 ORDER BY key) TO STDOUT WITH CSV"
    )

    def load(self, cur, rows):
        cur.execute(
            "CREATE TABLE records (dataset_id bigint NOT NULL, key text NOT NULL, "
            "data jsonb NOT NULL)"
        )
        cur.copy_expert("COPY records FROM STDIN", _jsonb_text(rows))
        cur.execute("CREATE UNIQUE INDEX records_key ON records (dataset_id, key)")
        cur.execute("CREATE INDEX records_gin ON records USING gin (data jsonb_path_ops)")
        cur.execute("ANALYZE records")


class JsonbExpressionIndex(JsonbTable):
    """The JSONB table again, with an expression index built for this one query: what it takes
    to match (a), i.e. a per-dataset, per-field index, which a shared table cannot add cheaply."""

    name = "shared JSONB table + expression index"
    page_sql = (
        "SELECT data->>'id_number', data->>'name', data->>'birth_date', data->>'district' "
        "FROM records WHERE dataset_id = 1 AND data->>'district' = %s "
        "AND data->>'birth_date' >= %s ORDER BY data->>'birth_date', key LIMIT 100"
    )

    def load(self, cur, rows):
        super().load(cur, rows)
        cur.execute(
            "CREATE INDEX records_district ON records "
            "(dataset_id, (data->>'district'), (data->>'birth_date'), key)"
        )
        cur.execute("ANALYZE records")


def run_design(conn, design: Design, rows: list[tuple], lookups: int) -> dict:
    rng = random.Random(11)
    keys = [rows[rng.randrange(len(rows))][0] for _ in range(lookups)]
    result: dict = {"design": design.name}
    with conn.cursor() as cur:
        result["load_s"] = round(timed(lambda: design.load(cur, rows)), 2)
        result["size"] = _size(cur, design.table)
        durations = []
        for key in keys:
            start = time.perf_counter()
            cur.execute(design.lookup_sql, [key])
            assert cur.fetchone() is not None
            durations.append((time.perf_counter() - start) * 1000)
        result["lookup_ms_median"] = round(statistics.median(durations), 3)
        result["lookup_ms_p95"] = round(sorted(durations)[int(len(durations) * 0.95)], 3)
        pages = []
        for _ in range(20):
            start = time.perf_counter()
            cur.execute(design.page_sql, [PAGE_DISTRICT, PAGE_SINCE])
            assert len(cur.fetchall()) == 100
            pages.append((time.perf_counter() - start) * 1000)
        result["page_ms_median"] = round(statistics.median(pages), 2)
        # Best of three: an export is long enough for other load on the machine to show.
        exports = []
        for _ in range(3):
            sink = NullSink()
            exports.append(timed(lambda sink=sink: cur.copy_expert(design.export_sql, sink)))
        result["export_s"] = round(min(exports), 3)
        result["export_mb"] = round(sink.bytes / 1e6, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)

    url = services.resolve_database_url().rsplit("/", 1)[0] + "/govdata_bench"
    services.ensure_database_exists(url)
    import dj_database_url

    cfg = dj_database_url.parse(url)
    conn = psycopg2.connect(
        dbname=cfg["NAME"], user=cfg["USER"], host=cfg["HOST"] or None, port=cfg["PORT"] or None
    )
    conn.autocommit = True
    t0 = time.perf_counter()
    rows = generate_rows(args.rows)
    print(f"generated {len(rows):,} rows in {time.perf_counter() - t0:.1f} s", flush=True)
    results = []
    schema = f"bench_{os.getpid()}"
    with conn.cursor() as cur:
        cur.execute("SHOW server_version")
        server_version = cur.fetchone()[0]
    for design in (TypedTable(), JsonbTable(), JsonbExpressionIndex()):
        with conn.cursor() as cur:
            # A schema of this run's own: parallel runs must not drop each other's tables.
            cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")
            cur.execute(f"SET search_path TO {schema}")
        result = run_design(conn, design, rows, args.lookups)
        print(json.dumps(result, ensure_ascii=False), flush=True)
        results.append(result)
    with conn.cursor() as cur:
        cur.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    conn.close()
    summary = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows": args.rows,
        "postgres": server_version,
        "python": platform.python_version(),
        "results": results,
    }
    if args.json:
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    for figure in bench_figures(results, args.rows):
        print("BENCH-JSON " + json.dumps(figure, ensure_ascii=False))
    return 0


def bench_figures(results: list[dict], rows: int) -> list[dict]:
    """The figures in benchmarks/README.md's format: each JSONB measure as a ratio of the typed
    table's (above 1 means the typed table is faster)."""
    typed, jsonb = results[0], results[1]
    sizes = {"rows": rows}
    figures = [
        {
            "name": f"store.typed_{key}",
            "label": f"Typed table per dataset: {label}",
            "value": typed[key],
            "unit": unit,
            "sizes": sizes,
        }
        for key, label, unit in (
            ("load_s", "load (COPY + indexes)", "s"),
            ("lookup_ms_median", "key lookup, median", "ms"),
            ("page_ms_median", "filtered + ordered page of 100, 4 columns, median", "ms"),
            ("export_s", "projected export (COPY of a query), all rows", "s"),
        )
    ]
    for key, label in (
        ("load_s", "load time"),
        ("page_ms_median", "page query time"),
        ("export_s", "export time"),
    ):
        figures.append(
            {
                "name": f"store.jsonb_vs_typed_{key}",
                "label": f"Shared JSONB table vs typed table: {label}",
                "value": round(jsonb[key] / typed[key], 2) if typed[key] else None,
                "unit": "x",
                "baseline": typed[key],
                "baseline_label": "typed table per dataset",
                "sizes": sizes,
                "details": json.dumps(results, ensure_ascii=False, indent=1),
            }
        )
        if key != "export_s":  # an export is formatting-bound: about equal is expected
            figures[-1]["target"] = {"op": ">=", "value": 1}
    return figures


if __name__ == "__main__":
    sys.exit(main())
