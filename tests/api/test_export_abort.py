"""A client that stops reading an export does not leave a COPY thread or the session stuck,
whether the export is read over one connection or in parts over several."""

from __future__ import annotations

import threading
import time

import pytest

from apps.records.store import store_replace_rows
from tests.api.conftest import PURPOSE, ROWS
from tests.api.test_export import MANY, _export, _parts

BASE = "/api/v1/datasets/GA-RK-001"


def _abandon_after(client, chunks: int) -> None:
    """Read `chunks` chunks of an NDJSON export, hang up, and wait for every COPY thread."""
    response = client.get(f"{BASE}/export/?format=ndjson", **PURPOSE)
    stream = iter(response.streaming_content)
    for _ in range(chunks):
        next(stream)
    response.close()
    deadline = time.monotonic() + 10
    while any(t.name == "export-copy" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a COPY thread is still running"
        time.sleep(0.05)


@pytest.fixture
def tiny_chunks(monkeypatch):
    import apps.api.export as export

    monkeypatch.setattr(export, "CHUNK", 8)  # tiny chunks so that the queue fills at once
    monkeypatch.setattr(export, "QUEUE_CHUNKS", 1)


@pytest.mark.django_db(transaction=True)
def test_abandoned_export_stops_its_copy_thread(api_world, tiny_chunks):
    client = api_world.clients["granted"]
    _abandon_after(client, 1)
    again = client.get(f"{BASE}/records/", **PURPOSE)
    assert again.status_code == 200 and len(again.json()["results"]) == len(ROWS)


@pytest.mark.django_db(transaction=True)
def test_an_abandoned_export_in_parts_stops_every_part(api_world, settings, tiny_chunks):
    store_replace_rows(api_world.base.dataset, MANY)
    _parts(settings, 3)
    client = api_world.clients["granted"]
    _abandon_after(client, 2)
    assert len(_export(client, "ndjson")) == len(MANY)
