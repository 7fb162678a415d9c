"""Shared builders for the sync tests: small sources and row-by-row reads of the live table."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from pathlib import Path

import psycopg2
from django.db import connection
from psycopg2 import sql

from apps.common import clock
from apps.records import store
from apps.sync.models import SyncRun
from apps.sync.services import sync_config_set
from govdata.validation import _USCC_ALPHABET, _USCC_WEIGHTS

REGIONS = ("110101", "310104", "110102", "310101")


def make_id(rng: random.Random, birth: str | None = None) -> str:
    body = (
        rng.choice(REGIONS)
        + (birth or f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}")
        + f"{rng.randint(0, 999):03d}"
    )
    check = (1 - 2 * int(body, 13)) % 11
    return body + ("X" if check == 10 else str(check))


def make_credit_code(rng: random.Random) -> str:
    body = (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
    )
    total = sum(_USCC_ALPHABET.index(c) * w for c, w in zip(body, _USCC_WEIGHTS, strict=False))
    return body + _USCC_ALPHABET[(31 - total) % 31]


def population_rows(n: int, seed: int = 1) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    seen = set()
    while len(rows) < n:
        ident = make_id(rng)
        if ident in seen:
            continue
        seen.add(ident)
        rows.append(
            {
                "id_number": ident,
                "name": rng.choice("张王李赵陈") + rng.choice(["伟", "芳", "娜", "强"]),
                "gender": rng.choice(["男", "女"]),
                "birth_date": f"{ident[6:10]}-{ident[10:12]}-{ident[12:14]}",
                "mobile": f"138{rng.randint(0, 99999999):08d}",
                "address": "广东省广州市天河区体育西路" + str(rng.randint(1, 200)) + "号",
                "district": rng.choice(["天河区", "越秀区", "海珠区"]),
                "religion": "",
            }
        )
    return rows


COLUMNS = ["id_number", "name", "gender", "birth_date", "mobile", "address", "district", "religion"]


def write_csv(path: Path, rows: list[dict], *, encoding: str = "utf-8", columns=COLUMNS) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def live_rows(dataset) -> list[tuple]:
    """Every published record of the dataset, ordered by key, as text tuples."""
    table = store.live_table(dataset.pk)
    with connection.cursor() as cursor:
        if not store.table_exists(cursor, table):
            return []
        columns = [f.name for f in dataset.fields.all()]
        cursor.execute(
            sql.SQL("SELECT {} FROM {} ORDER BY {}").format(
                sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
                store.ident(table),
                sql.Identifier(dataset.key_field),
            )
        )
        return cursor.fetchall()


def config_form_data(world, upload, *, encoding: str = "") -> dict:
    """POST data of the SyncConfig admin form for a full CSV run of the world's dataset."""
    return {
        "dataset": world.dataset.pk,
        "kind": "csv",
        "mode": "full",
        "options": "{}",
        "watermark_column": "",
        "reject_percent": "5",
        "upload": upload,
        "encoding": encoding,  # after the file in the body
    }


def other_connection():
    """A connection of its own to the test database, in autocommit (another process's, as far
    as PostgreSQL can tell): to hold a lock or end a backend from outside."""
    s = connection.settings_dict
    conn = psycopg2.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
    )
    conn.autocommit = True
    return conn


def terminate_backend(pid: int) -> None:
    """Cut a database connection from outside, as a server restart or a network cut would."""
    admin = other_connection()
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        admin.close()


def finished_run(dataset, status: str, *, days_ago: float) -> SyncRun:
    """A finished run of an HTTP source, requested (and ended) `days_ago` days ago."""
    config = sync_config_set(dataset=dataset, kind="http", options={"url": "http://x"})
    requested = clock.now() - dt.timedelta(days=days_ago)
    return SyncRun.objects.create(
        dataset=dataset, config=config, status=status, trigger="schedule", mode="full",
        kind="http", created_at=requested, started_at=requested, finished_at=requested,
    )  # fmt: skip


def listed_run_ids(client, url: str) -> list[int]:
    """The ids of the runs the admin's runs list at `url` shows `client`."""
    response = client.get(url)
    assert response.status_code == 200
    return [run.pk for run in response.context["cl"].result_list]
