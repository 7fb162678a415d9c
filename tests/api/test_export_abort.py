"""A client that stops reading an export does not leave a COPY thread or the session stuck,
whether the export is read over one connection or in parts over several."""

from __future__ import annotations

import threading
import time

import pytest

from apps.audit.models import AuditEvent
from apps.records.store import store_replace_rows
from tests.api.conftest import PURPOSE, ROWS
from tests.api.test_export import MANY, _export, _parts

BASE = "/api/v1/datasets/GA-RK-001"


def _abandon_after(client, chunks: int):
    """Read `chunks` chunks of an NDJSON export, hang up, and wait for every COPY thread; the
    response and the chunks read."""
    response = client.get(f"{BASE}/export/?format=ndjson", **PURPOSE)
    stream = iter(response.streaming_content)
    received = [next(stream) for _ in range(chunks)]
    response.close()
    deadline = time.monotonic() + 10
    while any(t.name == "export-copy" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "a COPY thread is still running"
        time.sleep(0.05)
    return response, received


def _end_event(response) -> AuditEvent:
    events = AuditEvent.objects.filter(action__in=["export", "export.end"]).order_by("seq")
    start, end = [e for e in events if e.request_id == response["X-Request-Id"]]
    assert start.row_count is None
    return end


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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("connections", [1, 3])
def test_an_abandoned_export_records_the_rows_it_sent_and_that_it_was_aborted(
    api_world, settings, tiny_chunks, connections
):
    store_replace_rows(api_world.base.dataset, MANY)
    _parts(settings, connections)
    response, received = _abandon_after(api_world.clients["granted"], 3)
    end = _end_event(response)
    assert end.reason == "export aborted: client gone" and end.outcome == "allowed"
    assert end.row_count == len(b"".join(received).splitlines()) == 3
