"""The field search finds every read that concerned the field: returned, asked for, filtered on
or ordered by it, denied reads included (they return nothing); whatever the case typed; on an
index."""

import pytest
from django.db import connection

from apps.audit import selectors
from tests.api.conftest import PURPOSE, api_world  # noqa: F401 - the API test world fixture
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db


def found(world, field: str) -> set[str]:
    filters = selectors.EventFilters(field=field)
    qs = selectors.events_search(user=world.platform_auditor, filters=filters)
    return {e.data["request_id"] for e in qs if e.kind == "access"}


# request id -> filters of a denied read (which returned no field)
DENIED_PROBES = {
    "asked": {"fields": "address", "page_size": "1"},
    "filtered": {"address__contains": "天河"},
    "ordered": {"ordering": "district,-address"},
    "looked-up": {"address": "x", "fields": "name"},
    "other": {"fields": "name,address_line"},
    "reserved": {"page_size": "address"},
}


@pytest.fixture
def probes(world):
    denied = {"outcome": "denied", "fields": {}, "row_count": None, "reason": "x"}
    return [
        record_read(world, request_id="returned", fields={"address": "address"}),
        *(
            record_read(world, request_id=request_id, filters=filters, **denied)
            for request_id, filters in DENIED_PROBES.items()
        ),
    ]


def test_the_field_search_finds_denied_reads_that_asked_filtered_or_ordered(world, probes):
    assert found(world, "address") == {"returned", "asked", "filtered", "ordered", "looked-up"}


@pytest.mark.parametrize("typed", ["ADDRESS", " Address "])
def test_the_field_search_ignores_the_case_typed(world, probes, typed):
    assert found(world, typed) == found(world, "address")


def test_a_field_only_filtered_on_by_an_allowed_read_is_found_too(world):
    record_read(world, request_id="by-district", filters={"district__in": "天河区,越秀区"})
    assert "by-district" in found(world, "district")


def test_a_denied_api_read_of_a_field_is_found_by_the_field_search(api_world):  # noqa: F811
    client = api_world.clients["granted"]
    response = client.get(
        "/api/v1/datasets/GA-RK-001/records/?fields=address&page_size=1", **PURPOSE
    )
    assert response.status_code == 403
    got = selectors.events_search(
        user=api_world.base.platform_auditor,
        filters=selectors.EventFilters(field="address", outcome="denied"),
    )
    assert [e.data["filters"]["fields"] for e in got] == ["address"]


@pytest.mark.django_db
def test_no_index_over_the_body_makes_every_audited_read_dearer():
    # Every read's event is inserted under the chain lock: an index over a function of the
    # body cost ~650 µs per insert (migration 0007). The searches filter without one.
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_event'")
        definitions = [row[0] for row in cursor.fetchall()]
    assert definitions and not [d for d in definitions if "body" in d or "gin" in d.lower()]
