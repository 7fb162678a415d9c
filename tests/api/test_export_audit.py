"""An export is audited twice under one request id: before its first byte (no audit, no data),
and when its stream has ended, with the rows actually sent, how it ended and its duration."""

from __future__ import annotations

import psycopg2
import pytest
from django.db import DatabaseError, connection
from psycopg2 import sql

from apps.audit.models import AuditEvent
from apps.records.store import store_replace_rows
from tests.api.conftest import PURPOSE, ROWS
from tests.api.test_export import MANY, _parts

BASE = "/api/v1/datasets/GA-RK-001"


def _events(request_id: str) -> list[AuditEvent]:
    """The export events of one request, oldest first."""
    events = AuditEvent.objects.filter(action__in=["export", "export.end"]).order_by("seq")
    return [e for e in events if e.request_id == request_id]


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
@pytest.mark.parametrize("masking", ["name", "hash"], ids=["copy", "python"])
def test_a_finished_export_records_the_rows_it_sent_when_it_ends(api_world, fmt, masking):
    field = api_world.base.fields["name"]
    field.masking = field.published_masking = masking
    field.save(update_fields=["masking", "published_masking"])
    response = api_world.clients["granted"].get(
        f"{BASE}/export/?format={fmt}&district=天河区", **PURPOSE
    )
    start, *rest = _events(response["X-Request-Id"])
    assert start.row_count is None and rest == []  # nothing sent yet
    b"".join(response.streaming_content)
    start, end = _events(response["X-Request-Id"])
    assert end.row_count == sum(1 for r in ROWS if r["district"] == "天河区")
    assert (start.action, end.action) == ("export", "export.end")
    assert end.outcome == "allowed" and end.reason == "export complete"
    for name in ["consumer_code", "provider_code", "dataset_code", "fields", "filters"]:
        assert getattr(end, name) == getattr(start, name), name
    assert end.fields["name"] == masking and end.purpose == PURPOSE["HTTP_X_PURPOSE"]
    assert end.duration_ms >= start.duration_ms


def test_an_export_with_no_matching_row_ends_with_zero_rows(api_world):
    response = api_world.clients["granted"].get(
        f"{BASE}/export/?format=ndjson&district=无此区", **PURPOSE
    )
    assert b"".join(response.streaming_content) == b""
    _start, end = _events(response["X-Request-Id"])
    assert end.row_count == 0 and end.reason == "export complete"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_an_export_that_fails_midway_records_it_was_aborted(api_world, fmt):
    from apps.records.store import ident, live_table

    client = api_world.clients["granted"]
    client.raise_request_exception = False
    response = client.get(f"{BASE}/export/?format={fmt}", **PURPOSE)
    # The table goes away between the response's headers and its rows: a real database error.
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP TABLE {}").format(ident(live_table(api_world.base.dataset.pk)))
        )
    with pytest.raises((DatabaseError, psycopg2.Error)):
        b"".join(response.streaming_content)
    _start, end = _events(response["X-Request-Id"])
    assert end.row_count == 0
    assert end.reason.startswith("export aborted: ") and "client gone" not in end.reason


@pytest.mark.django_db(transaction=True)
def test_an_export_read_in_parts_records_every_row_it_sent(api_world, settings):
    store_replace_rows(api_world.base.dataset, MANY)
    _parts(settings, 3)
    response = api_world.clients["granted"].get(f"{BASE}/export/?format=ndjson", **PURPOSE)
    lines = b"".join(response.streaming_content).splitlines()
    _start, end = _events(response["X-Request-Id"])
    assert end.row_count == len(lines) == len(MANY) and end.reason == "export complete"


def test_an_exports_event_records_its_ordering(api_world):
    client = api_world.clients["granted"]
    response = client.get(
        "/api/v1/datasets/GA-RK-001/export/?format=csv&ordering=-id_number", **PURPOSE
    )
    b"".join(response.streaming_content)
    event = AuditEvent.objects.filter(action="export").latest("seq")
    assert event.filters == {"ordering": "-id_number", "format": "csv"}


@pytest.mark.parametrize("param", ["cursor=abc", "page_size=10"])
def test_paging_parameters_on_an_export_are_a_400_naming_them(api_world, param):
    response = api_world.clients["granted"].get(
        f"/api/v1/datasets/GA-RK-001/export/?format=csv&{param}", **PURPOSE
    )
    assert response.status_code == 400
    assert param.split("=")[0] in response.json()["detail"]
