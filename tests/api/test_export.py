"""Exports read in parts over several connections: the same rows as one connection, one
snapshot, and a publish cannot slip in between the parts."""

from __future__ import annotations

import threading

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
def test_an_export_in_parts_has_exactly_the_rows_of_one_connection(api_world, settings, fmt):
    store_replace_rows(api_world.base.dataset, MANY)
    assert _pages(api_world.base.dataset) >= 6  # big enough to be split three ways
    client = api_world.clients["granted"]
    _parts(settings, 1)
    whole = _export(client, fmt)
    _parts(settings, 3)
    threads_before = threading.active_count()
    parts = _export(client, fmt)
    assert len(whole) == len(MANY) + (1 if fmt == "csv" else 0)
    assert parts[0] == whole[0]  # the header (csv) stays first
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
    lines = _export(api_world.clients["granted"], "csv")
    assert len(lines) == len(MANY) + 1
    assert "Export read over one connection" in caplog.text
