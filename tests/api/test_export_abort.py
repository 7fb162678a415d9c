"""A client that stops reading an export does not leave the COPY thread or the session stuck."""

from __future__ import annotations

import threading
import time

import pytest

from tests.api.conftest import PURPOSE, ROWS

BASE = "/api/v1/datasets/GA-RK-001"


@pytest.mark.django_db(transaction=True)
def test_abandoned_export_stops_its_copy_thread(api_world, monkeypatch):
    import apps.api.export as export

    monkeypatch.setattr(export, "CHUNK", 8)  # tiny chunks so that the queue fills at once
    monkeypatch.setattr(export, "QUEUE_CHUNKS", 1)
    client = api_world.clients["granted"]
    response = client.get(f"{BASE}/export/?format=ndjson", **PURPOSE)
    stream = iter(response.streaming_content)
    next(stream)
    response.close()
    deadline = time.monotonic() + 10
    while any(t.name == "export-copy" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the COPY thread is still running"
        time.sleep(0.05)
    again = client.get(f"{BASE}/records/", **PURPOSE)
    assert again.status_code == 200 and len(again.json()["results"]) == len(ROWS)
