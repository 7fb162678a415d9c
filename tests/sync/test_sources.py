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
    # The 29 rows at the last watermark are read again (>=), unchanged: only the update counts.
    assert (run.rows_read, run.rows_updated, run.rows_inserted) == (30, 1, 0)
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
    assert (run.rows_read, run.rows_updated) == (20, 1)  # 19 at the last watermark, read again
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


def test_a_postgres_account_that_may_read_more_than_its_tables_is_refused(world, pg_source):
    # A superuser could read every database of the server (the platform's, when it is the
    # same server) and its files, whatever the database the URL names.
    src, url = pg_source
    _insert(src.cursor(), "people", population_rows(3), "2024-01-01T00:00:00Z")
    superuser = src.get_dsn_parameters()["user"]
    host_part = url.split("@", 1)[1]
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"query": "SELECT * FROM people"},
        secrets={"url": f"postgresql://{superuser}@{host_part}"},
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.FAILED
    assert "superuser" in run.error and superuser in run.error
    assert live_rows(world.dataset) == []


@pytest.mark.parametrize(
    "role", ["pg_read_server_files", "pg_write_server_files", "pg_execute_server_program"]
)
def test_a_postgres_account_that_may_reach_the_servers_files_is_refused(world, pg_source, role):
    # Not a superuser, but a member of a role that reads (pg_read_file, COPY FROM a file) or
    # writes the server's files, or runs programs on it.
    src, url = pg_source
    _insert(src.cursor(), "people", population_rows(3), "2024-01-01T00:00:00Z")
    reader = url.split("//", 1)[1].split(":", 1)[0]
    src.cursor().execute(f'GRANT {role} TO "{reader}"')
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"query": "SELECT * FROM people"},
        secrets={"url": url},
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.FAILED
    assert "read the server's files" in run.error and reader in run.error
    assert live_rows(world.dataset) == []
    src.cursor().execute(f'REVOKE {role} FROM "{reader}"')
    run = _run(world.dataset)  # the same account without the role reads its table
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert len(live_rows(world.dataset)) == 3


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
    assert (run.rows_read, run.rows_inserted) == (26, 1), run.error  # 25 at the last watermark
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
    missing_pages: set[int] = set()
    requests = 0

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
        path = urlsplit(self.path).path
        if path == "/paged":
            page, size = int(query.get("page", 1)), int(query.get("page_size", 10))
            if page in self.missing_pages:
                self.send_response(404)
                self.end_headers()
                return
            body = {"results": self.records[(page - 1) * size : page * size]}
        elif path == "/ignores-page":  # the first page, whatever page is asked for
            body = {"results": self.records[: int(query.get("page_size", 10))]}
        elif path == "/cursor-loop":  # a next cursor that never changes
            _Api.requests += 1
            body = {"results": self.records[:2], "next": "same"}
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
    _Api.missing_pages, _Api.requests = set(), 0
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


# --- where a SQL source may connect: the URL as libpq reads it ---------------------------------
def _platform_db_urls():
    from django.db import connection

    db = connection.settings_dict
    name, place = db["NAME"], f"{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    encoded = f"%{ord(name[0]):02x}{name[1:]}"
    return [
        (f"postgresql://{place}/postgres?dbname={name}", "platform's own database"),
        (f"postgresql://{place}/{encoded}", "platform's own database"),
        (f"postgresql://{place}/postgres?host=/var/run/postgresql&dbname={name}", "socket"),
    ]


@pytest.mark.parametrize("case", range(3))
def test_the_platforms_database_is_refused_however_the_url_names_it(world, case):
    from django.core.exceptions import ValidationError

    url, message = _platform_db_urls()[case]
    with pytest.raises(ValidationError, match=message):
        sync_config_set(
            dataset=world.dataset, kind="sql", options={"table": "auth_user"}, secrets={"url": url}
        )
    # Stored by a path that skips the check: the run checks what it connects to.
    config = sync_config_set(dataset=world.dataset, kind="sql", options={"table": "auth_user"})
    config.secrets_encrypted = secrets_encrypt({"url": url})
    config.save()
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.FAILED and message in run.error
    assert live_rows(world.dataset) == []


def test_a_sql_source_reads_the_database_its_url_names_after_decoding(world, pg_source):
    src, url = pg_source
    _insert(src.cursor(), "people", population_rows(4), "2024-01-01T00:00:00Z")
    base, name = url.rsplit("/", 1)
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"table": "people"},
        secrets={"url": f"{base}/postgres?dbname={name[0]}%{ord(name[1]):02x}{name[2:]}"},
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.rows_inserted == 4


def test_a_mariadb_query_runs_read_only(world, mariadb_table):
    conn, table = mariadb_table
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        options={"query": f"DROP TABLE {table}"},
        secrets={"url": "mysql://root@127.0.0.1:3306/test"},
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.FAILED and "READ ONLY" in run.error
    cursor = conn.cursor()
    cursor.execute("SHOW TABLES LIKE %s", [table])
    assert cursor.fetchall() == ((table,),)  # MySQL would have committed and run the DDL


# --- incremental reads: rows at the last watermark ---------------------------------------------
@pytest.mark.parametrize(
    ("column", "stamp"),
    [("updated_at", "2024-01-01T10:00:00+08:00"), ("updated_on", "2024-01-01")],
    ids=["timestamp", "date"],
)
def test_a_row_written_later_at_the_last_watermark_is_read(world, pg_source, column, stamp):
    src, url = pg_source
    cursor = src.cursor()
    cursor.execute("ALTER TABLE people ADD COLUMN updated_on date")
    rows = population_rows(6, seed=21)
    _insert(cursor, "people", rows[:5], "2024-01-01T10:00:00+08:00")
    cursor.execute("UPDATE people SET updated_on = '2024-01-01'")
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        mode="incremental",
        options={"table": "people"},
        secrets={"url": url},
        watermark_column=column,
    )
    assert _run(world.dataset).rows_inserted == 5
    # The same instant (or day) as the last row read, committed after the run.
    _insert(cursor, "people", rows[5:], stamp)
    cursor.execute("UPDATE people SET updated_on = '2024-01-01' WHERE updated_on IS NULL")
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_inserted, run.rows_updated) == (1, 0)
    assert len(live_rows(world.dataset)) == 6


@pytest.mark.parametrize("mode", ["full", "incremental"])
def test_a_custom_query_with_a_percent_sign_runs(world, pg_source, mode):
    src, url = pg_source
    rows = population_rows(12, seed=22)
    _insert(src.cursor(), "people", rows, "2024-01-01T00:00:00Z")
    sync_config_set(
        dataset=world.dataset,
        kind="sql",
        mode=mode,
        options={"query": "SELECT * FROM people WHERE district LIKE '天河%'"},
        secrets={"url": url},
        watermark_column="updated_at" if mode == "incremental" else "",
    )
    run = _run(world.dataset)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    published = live_rows(world.dataset)
    assert published and len(published) == sum(r["district"] == "天河区" for r in rows)


# --- HTTP APIs -----------------------------------------------------------------------------------
def _http_source(world, api_server, path, **options):
    sync_config_set(
        dataset=world.dataset,
        kind="http",
        options={"url": api_server + path, "page_size": 10, **options},
        secrets={"token": _Api.token},
    )
    return _run(world.dataset)


def test_a_key_a_record_leaves_out_is_null_in_that_record_only(world, api_server):
    records = population_rows(12, seed=23)
    first = {k: v for k, v in records[0].items() if k not in ("mobile", "address")}
    _Api.records = [first, *[{**r, "source_only": "x"} for r in records[1:]]]
    run = _http_source(world, api_server, "/paged")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    published = {r[0]: r for r in live_rows(world.dataset)}
    assert published[records[0]["id_number"]][4:6] == (None, None)
    assert all(published[r["id_number"]][4] == r["mobile"] for r in records[1:])
    assert all(published[r["id_number"]][5] == r["address"] for r in records[1:])


def test_a_next_cursor_sent_again_stops_the_run(world, api_server):
    _Api.records = population_rows(2, seed=24)
    run = _http_source(world, api_server, "/cursor-loop", pagination="cursor")
    assert run.status == SyncRun.Status.FAILED
    assert "“same” a second time" in run.error and _Api.requests == 2


def test_an_api_answering_the_same_page_again_stops_the_run(world, api_server):
    _Api.records = population_rows(23, seed=25)
    run = _http_source(world, api_server, "/ignores-page")
    assert run.status == SyncRun.Status.FAILED
    assert "Page 2 of the source API" in run.error and "“page”" in run.error


def test_an_api_without_records_says_so(world, api_server):
    _Api.records = []
    run = _http_source(world, api_server, "/paged")
    assert run.status == SyncRun.Status.FAILED and "returned no records" in run.error


def test_an_api_error_names_the_page_and_url_without_credentials(world, api_server):
    _Api.records = population_rows(23, seed=26)
    _Api.missing_pages = {2}
    run = _http_source(world, api_server, "/paged?apikey=k-secret")
    assert run.status == SyncRun.Status.FAILED
    assert f"(404) for page 2 ({api_server}/paged)" in run.error
    assert "k-secret" not in run.error and _Api.token not in run.error
