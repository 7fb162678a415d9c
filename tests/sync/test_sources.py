"""Real sources: a PostgreSQL table, a MariaDB table, an HTTP JSON API served by a test server,
and an .xlsx workbook. Full and incremental (watermark) runs from each."""

from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pymysql
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sync import engine
from apps.sync.models import SyncConfig, SyncRun
from apps.sync.services import sync_config_set, sync_run_request, sync_upload_store
from govdata.crypto import secrets_decrypt, secrets_encrypt
from tests.sync.helpers import COLUMNS, live_rows, population_rows

pytestmark = pytest.mark.django_db
SOURCE_COLUMNS = [*COLUMNS, "updated_at"]


def _run(dataset):
    run = sync_run_request(dataset=dataset, enqueue=False)
    return engine.run_execute(run_id=run.pk)


def _insert(cursor, table, rows, stamp, placeholder="%s"):
    cols = ", ".join(SOURCE_COLUMNS)
    marks = ", ".join([placeholder] * len(SOURCE_COLUMNS))
    cursor.executemany(
        f"INSERT INTO {table} ({cols}) VALUES ({marks})",
        [[r[c] for c in COLUMNS] + [stamp] for r in rows],
    )


def test_postgres_table_full_then_incremental_by_watermark(world, pg_source):
    src, url = pg_source
    rows = population_rows(30)
    _insert(src.cursor(), "people", rows, "2024-01-01T10:00:00+08:00")
    config = sync_config_set(
        dataset=world.dataset,
        kind="sql",
        mode="incremental",
        options={"table": "people"},
        secrets={"url": url},
        watermark_column="updated_at",
    )
    assert (
        url not in config.secrets_encrypted
        and secrets_decrypt(config.secrets_encrypted)["url"] == url
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.rows_inserted == 30 and run.watermark_after.startswith("2024-01-01")
    src.cursor().execute(
        "UPDATE people SET district = '白云区', updated_at = '2024-02-01T00:00:00+08:00' "
        "WHERE id_number = %s",
        [rows[0]["id_number"]],
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_updated, run.rows_inserted) == (1, 1, 0)
    published = {r[0]: r for r in live_rows(world.dataset)}
    assert published[rows[0]["id_number"]][6] == "白云区" and len(published) == 30


def test_run_reads_its_pinned_watermark_column_and_leaves_a_new_columns_window_alone(
    world, pg_source
):
    src, url = pg_source
    rows = population_rows(20)
    _insert(src.cursor(), "people", rows, "2024-01-01T10:00:00+08:00")
    source = {"kind": "sql", "mode": "incremental", "options": {"table": "people"}}
    sync_config_set(
        dataset=world.dataset, secrets={"url": url}, watermark_column="updated_at", **source
    )
    assert _run(world.dataset).status == SyncRun.Status.SUCCEEDED
    src.cursor().execute(
        "UPDATE people SET district = '白云区', updated_at = '2024-02-01T00:00:00+08:00' "
        "WHERE id_number = %s",
        [rows[0]["id_number"]],
    )
    run = sync_run_request(dataset=world.dataset, enqueue=False)
    assert run.watermark_column == "updated_at" and run.since.startswith("2024-01-01")
    # The officer switches the column before the run executes: a new window of another column.
    sync_config_set(dataset=world.dataset, watermark_column="birth_date", **source)
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_read, run.rows_updated) == (1, 1)
    assert run.watermark_after == "2024-01-31T16:00:00+00:00"
    config = SyncConfig.objects.get(dataset=world.dataset)
    assert (config.watermark_column, config.watermark_value) == ("birth_date", "")


def test_run_advances_the_config_watermark_while_its_column_is_unchanged(world, pg_source):
    src, url = pg_source
    _insert(src.cursor(), "people", population_rows(5), "2024-01-01T10:00:00+08:00")
    source = {"kind": "sql", "mode": "incremental", "options": {"table": "people"}}
    sync_config_set(
        dataset=world.dataset, secrets={"url": url}, watermark_column="updated_at", **source
    )
    run = sync_run_request(dataset=world.dataset, enqueue=False)
    # Saving the config again with the same column keeps the window.
    sync_config_set(dataset=world.dataset, watermark_column="updated_at", **source)
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    config = SyncConfig.objects.get(dataset=world.dataset)
    assert config.watermark_value == run.watermark_after and run.watermark_after


def test_postgres_query_source_full_run(world, pg_source):
    src, url = pg_source
    _insert(src.cursor(), "people", population_rows(12), "2024-01-01T00:00:00Z")
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"query": "SELECT * FROM people WHERE district <> '海珠区'"},
        secrets={"url": url},
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert all(r[6] != "海珠区" for r in live_rows(world.dataset))


@pytest.fixture
def mariadb_table():
    table = f"govdata_sync_{uuid.uuid4().hex[:8]}"
    conn = pymysql.connect(
        host="127.0.0.1",
        port=3306,
        user="root",
        password="",
        database="test",
        charset="utf8mb4",
        autocommit=True,
    )
    conn.cursor().execute(
        f"CREATE TABLE {table} ("
        + ", ".join(f"{c} VARCHAR(200)" for c in COLUMNS)
        + ", updated_at DATETIME) CHARACTER SET utf8mb4"
    )
    yield conn, table
    conn.cursor().execute(f"DROP TABLE IF EXISTS {table}")
    conn.close()


def test_mariadb_table_full_and_incremental(world, mariadb_table):
    conn, table = mariadb_table
    rows = population_rows(25, seed=11)
    _insert(conn.cursor(), table, rows, "2024-03-01 08:00:00")
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        mode="incremental",
        options={"table": table},
        secrets={"url": "mysql://root@127.0.0.1:3306/test"},
        watermark_column="updated_at",
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.rows_inserted == 25 and run.watermark_after == "2024-03-01T08:00:00"
    new = population_rows(26, seed=12)[-1]
    _insert(conn.cursor(), table, [new], "2024-03-02 08:00:00")
    run = _run(world.dataset)
    assert (run.rows_read, run.rows_inserted) == (1, 1), run.error
    assert len(live_rows(world.dataset)) == 26


def test_unreachable_database_is_a_retryable_source_error(world):
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"table": "t"},
        secrets={"url": "mysql://root@127.0.0.1:1/test"},
    )
    run = sync_run_request(dataset=world.dataset, enqueue=False)
    with pytest.raises(engine.SourceError):
        engine.run_execute(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == SyncRun.Status.RETRYING


class _Api(BaseHTTPRequestHandler):
    records: list[dict] = []
    token = "s3cret"

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_response(401)
            self.end_headers()
            return
        query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        if self.path.startswith("/elsewhere/"):  # a source sending the worker on
            self.send_response(302)
            self.send_header("Location", "http://" + urlsplit(self.path).path[len("/elsewhere/") :])
            self.end_headers()
            return
        if urlsplit(self.path).path == "/paged":
            page, size = int(query.get("page", 1)), int(query.get("page_size", 10))
            body = {"results": self.records[(page - 1) * size : page * size]}
        else:
            start = int(query.get("cursor", 0))
            chunk = self.records[start : start + 7]
            more = start + 7 < len(self.records)
            body = {"results": chunk, "next": str(start + 7) if more else None}
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def api_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("path", "pagination"), [("/paged", "page"), ("/cursor", "cursor")])
def test_http_api_with_pagination_and_bearer_token(world, api_server, path, pagination):
    _Api.records = population_rows(23, seed=13)
    sync_config_set(
        dataset=world.dataset,
        kind="http",
        options={"url": api_server + path, "pagination": pagination, "page_size": 10},
        secrets={"token": _Api.token},
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.rows_inserted == 23
    assert sorted(r[0] for r in live_rows(world.dataset)) == sorted(
        r["id_number"] for r in _Api.records
    )


def test_http_api_refusing_the_token_fails_the_run(world, api_server):
    _Api.records = population_rows(3)
    sync_config_set(
        dataset=world.dataset,
        kind="http",
        options={"url": api_server + "/paged"},
        secrets={"token": "wrong"},
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.FAILED and "401" in run.error


def test_xlsx_upload_streams_rows_including_native_dates_and_numbers(world, tmp_path):
    import datetime as dt

    from openpyxl import Workbook

    rows = population_rows(15, seed=14)
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for r in rows:
        values = [r[c] for c in COLUMNS]
        values[3] = dt.datetime.fromisoformat(r["birth_date"])  # Excel cells hold real dates
        values[4] = int(r["mobile"])
        sheet.append(values)
    path = tmp_path / "people.xlsx"
    book.save(path)
    run = sync_upload_store(
        dataset=world.dataset,
        upload=SimpleUploadedFile("people.xlsx", path.read_bytes()),
        enqueue=False,
    )
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    published = {r[0]: r for r in live_rows(world.dataset)}
    assert published[rows[0]["id_number"]][3] == rows[0]["birth_date"]
    assert SyncConfig.objects.get(dataset=world.dataset).kind == "xlsx"


def test_a_sql_source_may_not_be_the_platforms_own_database(world):
    from django.core.exceptions import ValidationError
    from django.db import connection

    db = connection.settings_dict
    own = f"postgresql://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    with pytest.raises(ValidationError, match="platform's own database"):
        sync_config_set(
            dataset=world.dataset,
            kind="sql",
            options={"table": "audit_event"},
            secrets={"url": own},
        )
    # Set before the rule (or by a path that skips the check): the run itself refuses it.
    config = sync_config_set(dataset=world.dataset, kind="sql", options={"table": "audit_event"})
    config.secrets_encrypted = secrets_encrypt({"url": own})
    config.save()
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.FAILED and "platform's own database" in run.error
    assert live_rows(world.dataset) == []


def test_sources_outside_the_allowed_networks_are_refused(world, api_server, settings):
    from django.core.exceptions import ValidationError

    settings.GOVDATA = {**settings.GOVDATA, "SYNC_SOURCE_HOSTS": ["10.20.0.0/16", ".gov.example"]}
    with pytest.raises(ValidationError, match="GOVDATA_SYNC_SOURCE_HOSTS"):
        sync_config_set(dataset=world.dataset, kind="http", options={"url": api_server + "/paged"})


def test_a_redirect_out_of_the_allowed_networks_is_refused_before_it_is_followed(
    world, api_server, settings
):
    _Api.records = population_rows(3)
    settings.GOVDATA = {**settings.GOVDATA, "SYNC_SOURCE_HOSTS": ["127.0.0.1/32"]}
    port = api_server.rsplit(":", 1)[1]
    sync_config_set(
        dataset=world.dataset,
        kind="http",
        options={"url": f"{api_server}/elsewhere/127.0.0.2:{port}/paged"},
        secrets={"token": _Api.token},
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.FAILED and "127.0.0.2" in run.error
    assert live_rows(world.dataset) == []
