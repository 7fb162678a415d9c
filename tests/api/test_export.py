"""Exports: read in parts over several connections (the same rows as one connection, one
snapshot, and a publish cannot slip in between the parts), and the text of their values."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from apps.records.store import store_replace_rows
from tests.api.conftest import PURPOSE, ROWS

BASE = "/api/v1/datasets/GA-RK-001"
MANY = [
    {**row, "id_number": f"44010619{n:06d}{i:04d}"[:18], "name": f"{row['name']}{n}"}
    for n in range(300)
    for i, row in enumerate(ROWS)
]


def _export(client, fmt: str, **params) -> list[bytes]:
    query = "&".join(f"{k}={v}" for k, v in {"format": fmt, **params}.items())
    response = client.get(f"{BASE}/export/?{query}", **PURPOSE)
    assert response.status_code == 200
    return b"".join(response.streaming_content).splitlines()


def _parts(settings, connections: int) -> None:
    settings.GOVDATA = {
        **settings.GOVDATA,
        "EXPORT_CONNECTIONS": connections,
        "EXPORT_PARALLEL_MIN_PAGES": 2,
    }


def _pages(dataset) -> int:
    from apps.records.store import live_table

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pg_relation_size(%s::regclass) / 8192", [f'records."{live_table(dataset.pk)}"']
        )
        return cur.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_an_export_in_parts_has_exactly_the_rows_of_one_connection(
    api_world, settings, fmt, caplog
):
    store_replace_rows(api_world.base.dataset, MANY)
    assert _pages(api_world.base.dataset) >= 6  # big enough to be split three ways
    client = api_world.clients["granted"]
    _parts(settings, 1)
    whole = _export(client, fmt)
    _parts(settings, 3)
    threads_before = threading.active_count()
    with caplog.at_level("WARNING", logger="apps.api.export"):
        parts = _export(client, fmt)
    assert "read over one connection" not in caplog.text  # really read in three parts
    assert len(whole) == len(MANY) + (1 if fmt == "csv" else 0)
    if fmt == "csv":
        assert parts[0] == whole[0]  # the header stays first; rows of the parts interleave
    assert sorted(parts) == sorted(whole)
    assert threading.active_count() == threads_before  # every part's thread has ended


@pytest.mark.django_db(transaction=True)
def test_a_filtered_export_in_parts_keeps_the_filter(api_world, settings):
    store_replace_rows(api_world.base.dataset, MANY)
    _parts(settings, 2)
    lines = _export(api_world.clients["granted"], "ndjson", district="天河区")
    expected = sum(1 for row in MANY if row["district"] == "天河区")
    assert len(lines) == expected and all("天河区".encode() in line for line in lines)


@pytest.mark.django_db(transaction=True)
def test_a_publish_during_an_export_in_parts_waits_for_it(api_world, settings):
    """The first chunk is out, the other parts not yet read: a full replace must neither show
    up in the export nor leave a part reading the new table with the old snapshot."""
    import apps.api.export as export

    store_replace_rows(api_world.base.dataset, MANY)
    _parts(settings, 2)
    settings_chunk = export.CHUNK
    export.CHUNK = 64  # many small chunks, so that the export is mid-way after the first
    try:
        response = api_world.clients["granted"].get(f"{BASE}/export/?format=csv", **PURPOSE)
        stream = iter(response.streaming_content)
        received = [next(stream), next(stream)]
        replaced = threading.Event()

        def replace() -> None:
            store_replace_rows(api_world.base.dataset, ROWS)
            replaced.set()
            connection.close()

        publisher = threading.Thread(target=replace)
        publisher.start()
        assert not replaced.wait(1.0)  # blocked by the export's lock
        received.extend(stream)
        publisher.join(30)
        assert replaced.is_set()
    finally:
        export.CHUNK = settings_chunk
    lines = b"".join(received).splitlines()
    assert len(lines) == len(MANY) + 1
    after = _export(api_world.clients["granted"], "csv")
    assert len(after) == len(ROWS) + 1


@pytest.mark.django_db(transaction=True)
def test_without_spare_connections_the_export_is_read_over_one(
    api_world, settings, monkeypatch, caplog
):
    from django.db import connections

    store_replace_rows(api_world.base.dataset, MANY)
    _parts(settings, 3)
    unreachable = {**connections.settings["default"], "PORT": "1"}  # nothing listens there
    monkeypatch.setitem(connections.settings, "default", unreachable)
    # Its own level, as the other export tests: another test may have raised the logger's.
    with caplog.at_level("WARNING", logger="apps.api.export"):
        lines = _export(api_world.clients["granted"], "csv")
    assert len(lines) == len(MANY) + 1
    assert "Export read over one connection" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_part_that_fails_ends_the_stream_with_its_error_even_for_a_slow_client(monkeypatch):
    """The failed part's end marker reaches the reader although the queue is full (a client
    reading slowly): it raises instead of waiting for ever."""
    import psycopg2

    import apps.api.export as export

    monkeypatch.setattr(export, "CHUNK", 8)
    monkeypatch.setattr(export, "QUEUE_CHUNKS", 1)
    failing = psycopg2.connect(**connection.get_connection_params())
    # Rows of 2 bytes, so a dozen 8-byte chunks go out before the error at row 50.
    statement = "COPY (SELECT 1 / (g - 50) FROM generate_series(1, 100) g) TO STDOUT"
    stream = export.stream_parts([(statement, failing)])
    outcome: list = []

    def slow_reader() -> None:
        try:
            for _chunk in stream:
                time.sleep(0.6)  # slower than a pump waits to hand over a chunk
            outcome.append("finished")
        except Exception as exc:  # noqa: BLE001 - what the stream raised
            outcome.append(exc)

    reader = threading.Thread(target=slow_reader, daemon=True)
    reader.start()
    reader.join(30)
    try:
        assert not reader.is_alive(), "the reader waits for ever"
        assert isinstance(outcome[0], psycopg2.errors.DivisionByZero)
        assert not any(t.name == "export-copy" for t in threading.enumerate())
    finally:
        failing.close()


@pytest.mark.django_db(transaction=True)
def test_parts_that_cannot_lock_at_once_leave_the_export_to_one_connection(api_world, caplog):
    """A change waiting for the first connection's lock queues every later share lock behind
    it: the extra connections do not wait (the first only lets go when they are done)."""
    import psycopg2

    from apps.api.export import _close, _join_snapshot, _open_extra
    from apps.records.store import ident, live_table

    table = ident(live_table(api_world.base.dataset.pk))
    connection.ensure_connection()
    raw = connection.connection
    with raw.cursor() as cur:
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        table_lock = f"LOCK TABLE {table.as_string(raw)} IN ACCESS SHARE MODE"
        cur.execute(table_lock)
        cur.execute("SELECT pg_export_snapshot()")
        snapshot = cur.fetchone()[0]
    waiting = psycopg2.connect(**connection.get_connection_params())
    locker = threading.Thread(
        target=lambda: waiting.cursor().execute(
            table_lock.replace("ACCESS SHARE", "ACCESS EXCLUSIVE")
        ),
        daemon=True,
    )
    locker.start()
    watcher = psycopg2.connect(**connection.get_connection_params())
    watcher.autocommit = True
    deadline = time.monotonic() + 10
    while True:  # until the exclusive request is queued behind the first connection's lock
        with watcher.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_locks WHERE relation = %s::regclass"
                " AND mode = 'AccessExclusiveLock' AND NOT granted",
                [table.as_string(raw)],
            )
            if cur.fetchone()[0]:
                break
        assert time.monotonic() < deadline, "the exclusive lock request never queued"
        time.sleep(0.05)
    watcher.close()
    extra = _open_extra(2)
    try:
        assert len(extra) == 2
        started = time.monotonic()
        with caplog.at_level("WARNING", logger="apps.api.export"):
            assert _join_snapshot(extra, snapshot, table) is False
        assert time.monotonic() - started < 5
    finally:
        _close(extra)
        with raw.cursor() as cur:
            cur.execute("COMMIT")
        locker.join(10)
        waiting.rollback()
        waiting.close()
    assert "read over one connection" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_ndjson_lines_write_each_value_as_pages_and_lookups_do(world):
    """Decimals as strings and date-times in UTC, as a page gives them: one JSON form of a
    value whichever way it is read (found by an agency developer: numbers in exports)."""
    import datetime as dt

    import orjson

    from apps.api.export import export_response
    from apps.records.query import record_query_build
    from apps.records.reads import records_page_json
    from tests.factories import DatasetFactory, FieldFactory
    from tests.records.decisions import decision

    ds = DatasetFactory(provider=world.provider, key_field="code")
    types = {"code": "string", "amount": "decimal", "count": "integer", "at": "datetime"}
    for name, data_type in types.items():
        FieldFactory(dataset=ds, name=name, data_type=data_type)
    at = dt.datetime(2024, 1, 2, 3, 4, 5, 600, tzinfo=dt.UTC)
    store_replace_rows(ds, [{"code": "a", "amount": "12.50", "count": 3, "at": at}])
    ds = type(ds).objects.prefetch_related("fields").get(pk=ds.pk)
    d = decision(ds, world.provider, dict.fromkeys(types, "none"), owner=True)
    query = record_query_build(dataset=ds, decision=d, params={})
    page, _count, _next = records_page_json(query=query, page_size=10)
    response = export_response(query=query, fmt="ndjson", filename="x.ndjson")
    lines = b"".join(response.streaming_content).splitlines()
    assert [orjson.loads(line) for line in lines] == orjson.loads(page)
    assert orjson.loads(lines[0])["amount"] == "12.50"


@pytest.mark.parametrize("hashed", [False, True], ids=["copy", "python"])
def test_csv_writes_booleans_and_date_times_as_the_json_reads_do(api_world, hashed):
    import datetime as dt

    from apps.records.store import store_ensure_table, store_replace_rows
    from tests.factories import dataset_with_fields

    mask = "hash" if hashed else "none"  # a hashed column sends the export through Python
    dataset, _fields = dataset_with_fields(
        provider=api_world.base.provider,
        code="TYPES-001",
        name="类型",
        key_field="code",
        legal_basis="《政务数据共享条例》",
        specs=[
            ("code", "编号", "string", "unconditional", "none"),
            ("active", "有效", "boolean", "unconditional", "none"),
            ("updated_at", "更新时间", "datetime", "unconditional", "none"),
            ("holder", "持有人", "string", "unconditional", mask),
        ],
    )
    store_ensure_table(dataset)
    utc = dt.UTC
    store_replace_rows(
        dataset,
        [
            {"code": "A", "active": True, "updated_at": dt.datetime(2026, 1, 1, 2, tzinfo=utc),
             "holder": "张三"},
            {"code": "B", "active": False,
             "updated_at": dt.datetime(2026, 1, 1, 2, 0, 0, 5, tzinfo=utc), "holder": "李四"},
            {"code": "C", "active": None, "updated_at": None, "holder": None},
        ],
    )  # fmt: skip
    client, base = api_world.clients["no_grant"], "/api/v1/datasets/TYPES-001"
    page = client.get(f"{base}/records/?ordering=code&fields=code,active,updated_at", **PURPOSE)
    json_rows = [list(r.values()) for r in page.json()["results"]]
    csv = client.get(
        f"{base}/export/?format=csv&ordering=code&fields=code,active,updated_at,holder", **PURPOSE
    )
    lines = b"".join(csv.streaming_content).decode("utf-8-sig").splitlines()[1:]
    assert [line.split(",")[:3] for line in lines] == [
        ["A", "true", "2026-01-01T02:00:00+00:00"],
        ["B", "false", "2026-01-01T02:00:00.000005+00:00"],
        ["C", "", ""],
    ]
    as_csv = {True: "true", False: "false", None: ""}
    assert [[as_csv.get(v, v) for v in row] for row in json_rows] == [
        line.split(",")[:3] for line in lines
    ]
