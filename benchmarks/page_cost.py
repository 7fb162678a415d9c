"""What PostgreSQL spends on one page of 1,000 masked records (issue 5 analysis, not a target).

    .venv/bin/python benchmarks/page_cost.py [--rows 200000] [--repeat 15]

Builds api_world's dataset (12 fields, a consumer granted 8, 3 masked), then times, on one
connection, statements over the same keyset page of 1,001 rows: the scan alone, the same rows as
JSON without masks, with each mask alone and with all three (the statement the API runs, from
apps.records.query and apps.records.query_json), and the benchmark's baseline query on the plain
table. Each value is summed (`sum(length(...))`) so that PostgreSQL evaluates it without sending
it; the statements take turns and the best of `--repeat` is printed. The masks are the platform's
own expressions (apps.records.sql_masking).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import api_world  # noqa: E402


def statements(code: str) -> dict[str, str]:
    from django.db import connection
    from psycopg2 import sql

    from apps.catalog.models import Dataset
    from apps.records.sql_masking import masked_column
    from apps.records.store import live_table

    dataset = Dataset.objects.get(code=code)
    table = f'records."{live_table(dataset.pk)}"'
    after = api_world.record_key(1000)
    page = f"(SELECT * FROM {table} WHERE id_number > '{after}' ORDER BY id_number LIMIT 1001) r"
    connection.ensure_connection()
    raw = connection.connection

    def mask(name: str) -> str:
        rule, data_type = {f[0]: (f[3], f[1]) for f in api_world.FIELDS}[name]
        return masked_column(rule, name, data_type).as_string(raw)

    def expressions(masked: tuple[str, ...]) -> list[tuple[str, str]]:
        return [
            (mask(name) if name in masked else name, sql.Identifier(name).as_string(raw))
            for name in api_world.EIGHT
        ]

    def as_json(masked: tuple[str, ...]) -> str:
        values = ", ".join(f"{expr} AS {alias}" for expr, alias in expressions(masked))
        return (
            f"SELECT sum(length(row_to_json(v)::text)) FROM {page} "
            f"CROSS JOIN LATERAL (SELECT {values}) v"
        )

    def as_columns(masked: tuple[str, ...]) -> str:
        lengths = " + ".join(
            f"coalesce(length(({expr})::text), 0)" for expr, _alias in expressions(masked)
        )
        return f"SELECT sum({lengths}) FROM {page}"

    plain = ", ".join(api_world.EIGHT)
    return {
        "scan of the page's rows": f"SELECT count(*) FROM (SELECT id_number FROM {page}) x",
        "baseline: the plain table's 8 columns": (
            f"SELECT sum(length(concat_ws(',', {plain}))) FROM (SELECT {plain} FROM "
            f"{api_world.PLAIN} WHERE id_number > '{after}' ORDER BY id_number LIMIT 1000) p"
        ),
        "row_to_json, no mask": as_json(()),
        "row_to_json, name masked": as_json(("name",)),
        "row_to_json, mobile masked": as_json(("mobile",)),
        "row_to_json, address masked": as_json(("address",)),
        "row_to_json, the three masks (the API's page)": as_json(("name", "mobile", "address")),
        "the three masks as columns, no JSON": as_columns(("name", "mobile", "address")),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    api_world.setup_django()
    code, _token = api_world.build(args.rows)
    from django.db import connection

    try:
        measured = statements(code)
        best = dict.fromkeys(measured, float("inf"))
        with connection.cursor() as cur:
            cur.execute("SET max_parallel_workers_per_gather = 0")
            for _ in range(args.repeat):
                for name, statement in measured.items():
                    started = time.perf_counter()
                    cur.execute(statement)
                    cur.fetchall()
                    best[name] = min(best[name], time.perf_counter() - started)
        print("| statement over one page of 1,000 rows | best ms |")
        print("| --- | ---: |")
        for name, seconds in best.items():
            print(f"| {name} | {seconds * 1000:.2f} |")
    finally:
        api_world.drop_tables()


if __name__ == "__main__":
    main()
