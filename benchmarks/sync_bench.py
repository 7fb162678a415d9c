"""Sync benchmark (issue 4): full sync vs plain PostgreSQL COPY of the same CSV, worker peak RSS at
100k and 1M rows, and an incremental run that changes 1% of the rows.

    .venv/bin/python benchmarks/sync_bench.py [--rows 1000000]

Uses its own database `bench_govdata_sync` on the resolved PostgreSQL server; the generated CSV
files live in benchmarks/data/ (gitignored). Prints a markdown table, then one `BENCH-JSON` line
per figure (benchmarks/README.md). The measured runs use the engine as configured by default
(the Arrow fast path for CSV, apps/sync/fastpath.py); `--skip-reference` leaves out the
reference run of the Python path (GOVDATA["SYNC_FAST_PATH"] switched off) on the same file.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / "benchmarks" / "data"
sys.path.insert(0, str(BASE_DIR))

COLUMNS = [
    ("id_number", "id_card"),
    ("name", "string"),
    ("gender", "enum"),
    ("birth_date", "date"),
    ("mobile", "mobile"),
    ("address", "string"),
    ("district", "string"),
    ("employer_code", "credit_code"),
    ("income", "decimal"),
    ("household_size", "integer"),
    ("registered_on", "date"),
    ("insured", "boolean"),
]
REGIONS = ("110101", "310104", "110102", "310101", "120101", "110105")
USCC = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_W = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def _setup_django() -> None:
    from config import services

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    url = services.resolve_database_url().rsplit("/", 1)[0] + "/bench_govdata_sync"
    os.environ["DATABASE_URL"] = url
    services.resolve_all()
    services.ensure_database_exists(url)
    import django

    django.setup()


def generate(path: Path, rows: int, seed: int = 42) -> None:
    rng = random.Random(seed)
    codes = []
    for _ in range(2000):
        body = "91" + "".join(rng.choice("0123456789") for _ in range(6))
        body += "".join(rng.choice(USCC) for _ in range(9))
        total = sum(USCC.index(c) * w for c, w in zip(body, USCC_W, strict=False))
        codes.append(body + USCC[(31 - total) % 31])
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow([c for c, _t in COLUMNS])
        for i in range(rows):
            birth = f"{1940 + i % 65}{1 + i % 12:02d}{1 + i % 28:02d}"
            # the sequence part makes every number unique: region + birth + 3 digits + i-derived
            body = REGIONS[(i // 2310000) % 6] + birth + f"{(i // 780) % 1000:03d}"
            check = (1 - 2 * int(body, 13)) % 11
            writer.writerow(
                [
                    body + ("X" if check == 10 else str(check)),
                    "张王李赵陈刘杨黄"[i % 8] + "伟芳娜强敏静"[i % 6] + "华明"[i % 2],
                    "男女"[i % 2],
                    f"{birth[:4]}-{birth[4:6]}-{birth[6:]}",
                    f"13{rng.randint(0, 999999999):09d}",
                    f"广东省广州市天河区体育西路{i % 500}号{i % 30}栋{i % 2000}室",
                    ("天河区", "越秀区", "海珠区", "白云区")[i % 4],
                    codes[i % 2000],
                    f"{rng.randint(1000, 99999)}.{rng.randint(0, 99):02d}",
                    str(1 + i % 7),
                    f"20{10 + i % 14}/{1 + i % 12}/{1 + i % 28}",
                    "是否"[i % 2],
                ]
            )


def _dataset(code: str):
    from apps.catalog.models import Dataset, Field
    from apps.departments.models import Department
    from apps.departments.services import department_create

    dept = Department.objects.filter(code="BENCH").first() or department_create(
        code="BENCH", name="基准测试"
    )
    from django.db import connection

    from apps.records import store

    for old in Dataset.objects.filter(code=code):
        with connection.cursor() as cursor:
            store.drop_table(cursor, store.live_table(old.pk))
        old.delete()
    ds = Dataset.objects.create(
        code=code, name=code, provider=dept, key_field="id_number", sharing_type="unconditional"
    )
    for pos, (name, dtype) in enumerate(COLUMNS):
        Field.objects.create(
            dataset=ds,
            name=name,
            label=name,
            data_type=dtype,
            sharing_type="unconditional",
            position=pos,
            enum_values=["男", "女"] if dtype == "enum" else [],
        )
    return ds


def _child(run_ids: list[int], python_path: bool = False) -> None:
    _setup_django()
    from django.conf import settings

    from apps.sync.engine import run_execute

    # the default (Arrow fast) path is measured; the Python path only as the reference
    if python_path:
        settings.GOVDATA = {**settings.GOVDATA, "SYNC_FAST_PATH": False}

    for run_id in run_ids:
        run = run_execute(run_id=run_id)
        if run.status != "succeeded":
            print(run.error, file=sys.stderr)
            sys.exit(1)


def _run_in_child(*run_ids: int, python_path: bool = False) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one worker process executing the runs one after the other,
    as a long-lived Celery worker does."""
    started = time.perf_counter()
    ids = ",".join(str(i) for i in run_ids)
    extra = ["--python-path"] if python_path else []
    proc = subprocess.Popen([sys.executable, __file__, "--child", ids, *extra], cwd=BASE_DIR)
    _pid, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"runs {ids} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def _request(ds, path: Path, mode: str = "full"):
    from apps.sync.models import SyncConfig
    from apps.sync.services import sync_config_set, sync_run_request

    sync_config_set(dataset=ds, kind="csv", mode=mode, options={"path": str(path)}, scheduled=False)
    assert SyncConfig.objects.filter(dataset=ds).exists()
    return sync_run_request(dataset=ds, enqueue=False)


def _plain_copy(path: Path) -> float:
    from django.db import connection

    cols = ", ".join(f"{n} text" for n, _t in COLUMNS)  # the plainest table: no types, no index
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_plain_copy")
        cur.execute(f"CREATE TABLE bench_plain_copy ({cols})")
        started = time.perf_counter()
        with open(path, encoding="utf-8") as fh:
            cur.cursor.copy_expert("COPY bench_plain_copy FROM STDIN WITH (FORMAT csv, HEADER)", fh)
        elapsed = time.perf_counter() - started
        cur.execute("DROP TABLE bench_plain_copy")
    return elapsed


def _vs_copy(
    name: str, label: str, what: str, seconds: float, copy_s: float, rows: int, note: str
) -> dict:
    """A sync's throughput as a share of a plain COPY of the same file made just before."""
    return {
        "name": name,
        "label": label,
        "value": round(copy_s / seconds, 3),
        "unit": "x",
        "target": {"op": ">=", "value": 0.5},
        "baseline": round(rows / copy_s),
        "baseline_unit": "rows/s",
        "baseline_label": "PostgreSQL COPY of the same CSV into a plain table",
        "sizes": {"rows": rows},
        "details": f"{what}, COPY {copy_s:.1f} s; {note}",
    }


def data_files(rows: int) -> tuple[Path, Path, Path, Path]:
    """(the file, its first tenth, a 1% delta of it, a 1,000-row warm-up file), generated into
    benchmarks/data/ the first time."""
    big = DATA_DIR / f"sync_{rows}.csv"
    small_rows = max(1, rows // 10)
    small = DATA_DIR / f"sync_{small_rows}.csv"
    delta = DATA_DIR / f"sync_{rows}_delta.csv"
    if not big.exists():
        print(f"generating {big} ...", flush=True)
        generate(big, rows)
    if not small.exists():
        with open(big, encoding="utf-8") as src, open(small, "w", encoding="utf-8") as out:
            for i, line in enumerate(src):
                if i > small_rows:
                    break
                out.write(line)
    warm_file = DATA_DIR / "sync_warm.csv"
    if not warm_file.exists():
        with open(big, encoding="utf-8") as src, open(warm_file, "w", encoding="utf-8") as out:
            for i, line in enumerate(src):
                if i > 1000:
                    break
                out.write(line)
    if not delta.exists():  # 1% of the rows with a changed address
        with (
            open(big, encoding="utf-8", newline="") as src,
            open(delta, "w", encoding="utf-8", newline="") as out,
        ):
            reader, writer = csv.reader(src), csv.writer(out, lineterminator="\n")
            writer.writerow(next(reader))
            for i, row in enumerate(reader):
                if i % 100 == 0:
                    row[5] = row[5] + "（已迁出）"
                    writer.writerow(row)
    return big, small, delta, warm_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--child", help="run ids to execute in this worker process")
    parser.add_argument("--python-path", action="store_true", help="child: fast path off")
    parser.add_argument("--skip-reference", action="store_true", help="skip the Python-path run")
    args = parser.parse_args()
    if args.child:
        _child([int(i) for i in args.child.split(",")], python_path=args.python_path)
        return
    big, small, delta, warm_file = data_files(args.rows)
    small_rows = max(1, args.rows // 10)
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    size_mb = big.stat().st_size / 1e6
    copy_s = _plain_copy(big)
    ds_small = _dataset("BENCH-SMALL")
    small_s, small_rss = _run_in_child(_request(ds_small, small).pk)
    ds = _dataset("BENCH-FULL")
    full_s, full_rss = _run_in_child(_request(ds, big).pk)
    # The same file again over the loaded dataset: the scheduled full run of a dataset that has
    # data, which also counts what it inserts, updates and removes (a first load need not).
    copy_before_replace = _plain_copy(big)
    _run_in_child(_request(ds, big).pk)
    # The incremental run in a warm worker (as in production, where a worker serves many runs):
    # a first small run loads stdnum's region table, then the measured 1% run.
    warm = _dataset("BENCH-WARM")
    inc_s, inc_rss = _run_in_child(
        _request(warm, warm_file).pk, _request(ds, delta, mode="incremental").pk
    )
    from apps.sync.models import SyncRun

    runs = list(SyncRun.objects.filter(dataset=ds).order_by("id"))
    full_run, replace_run, inc = runs[-3], runs[-2], runs[-1]
    full_e, inc_e = full_run.duration.total_seconds(), inc.duration.total_seconds()
    replace_e = replace_run.duration.total_seconds()
    py_e = None
    if not args.skip_reference:  # the Python path on the same file, for comparison
        ref = _dataset("BENCH-PYTHON")
        ref_run = _request(ref, big)
        _run_in_child(ref_run.pk, python_path=True)
        ref_run.refresh_from_db()
        py_e = ref_run.duration.total_seconds()
        copy_again = _plain_copy(big)  # the load moves: compare with a COPY made just now too
    load = os.getloadavg()
    rows = [
        ("file", f"{args.rows:,} rows, 12 columns, {size_mb:.0f} MB"),
        ("plain COPY into a plain table", f"{copy_s:.1f} s"),
        (
            "full sync in the run (read, validate, COPY, index, publish)",
            f"{full_e:.1f} s ({full_s:.1f} s with worker start-up)",
        ),
        ("throughput ratio COPY time / sync time (target >= 0.5)", f"{copy_s / full_e:.2f}"),
        (
            "full sync of the same file over the loaded dataset (ratio vs a COPY just before)",
            f"{replace_e:.1f} s, ratio {copy_before_replace / replace_e:.2f}",
        ),
        (f"peak worker RSS at {small_rows:,} rows", f"{small_rss:.0f} MB ({small_s:.1f} s)"),
        (f"peak worker RSS at {args.rows:,} rows (target < 300 MB)", f"{full_rss:.0f} MB"),
        (
            f"incremental run, 1% changed ({inc.rows_updated:,} updated)",
            f"{inc_e:.1f} s = {100 * inc_e / full_e:.1f}% of full (target <= 5%); "
            f"worker peak {inc_rss:.0f} MB",
        ),
    ]
    if py_e is not None:
        rows.append(
            (
                "reference: the Python path on the same file (ratio vs a COPY made just before)",
                f"{py_e:.1f} s, ratio {copy_again / py_e:.2f}",
            )
        )
    rows.append(("load average (1, 5, 15 min) at the end", ", ".join(f"{x:.1f}" for x in load)))
    print(f"\nSync benchmark, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n")
    print("| measure | result |\n| --- | --- |")
    for name, value in rows:
        print(f"| {name} | {value} |")
    sizes = {"rows": args.rows}
    note = f"load average {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} on a shared 2-core machine"
    figures = [
        _vs_copy(
            "sync.full_vs_copy",
            "Full sync throughput vs COPY (CSV, default Arrow fast path)",
            f"full sync {full_e:.1f} s",
            full_e,
            copy_s,
            args.rows,
            note,
        ),
        _vs_copy(
            "sync.full_replace_vs_copy",
            "Full sync over the loaded dataset (replace, with counts) vs COPY",
            f"replace {replace_e:.1f} s",
            replace_e,
            copy_before_replace,
            args.rows,
            note,
        ),
        {
            "name": "sync.peak_rss_full",
            "label": f"Worker peak RSS, full sync of {args.rows:,} rows",
            "value": round(full_rss),
            "unit": "MB",
            "target": {"op": "<=", "value": 300},
            "sizes": sizes,
            "details": f"{small_rss:.0f} MB at {small_rows:,} rows",
        },
        {
            "name": "sync.incremental_vs_full",
            "label": "Incremental run changing 1% of rows, share of a full run",
            "value": round(inc_e / full_e, 4),
            "unit": "x",
            "target": {"op": "<=", "value": 0.05},
            "sizes": sizes,
            "details": f"incremental {inc_e:.2f} s, full {full_e:.1f} s; {note}",
        },
    ]
    if py_e is not None:
        figures.append(
            {
                "name": "sync.python_path_vs_copy",
                "label": "Reference: full sync on the Python path (fast path off) vs COPY",
                "value": round(copy_again / py_e, 3),
                "unit": "x",
                "sizes": sizes,
                "details": f"Python path {py_e:.1f} s, COPY {copy_again:.1f} s; {note}",
            }
        )
    for figure in figures:
        print("BENCH-JSON " + json.dumps(figure, ensure_ascii=False))


if __name__ == "__main__":
    main()
