"""The API benchmarks' world: a dataset of N records with 12 fields (a consumer granted 8, 3
masked) and a plain typed table of the same rows, the gunicorn server (production settings,
audit on or off), and the HTTP clients that load it. Shared by api_bench.py (the figures) and
the analysis scripts (api_cpu.py, audit_cost.py, audit_load.py). Own database:
bench_govdata_api.
"""

from __future__ import annotations

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
    from apps.sharing.services import request_approve
    from apps.sharing.submission import request_submit

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
                "--config",
                "python:config.gunicorn_conf",
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


def drop_tables() -> None:
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
