"""The query string of record reads: a parameter given twice and a malformed ordering are 400
problems naming the parameter, never one value silently winning."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from tests.api.conftest import PURPOSE, ROWS

BASE = "/api/v1/datasets/GA-RK-001"
KEY = ROWS[0]["id_number"]


@pytest.mark.parametrize(
    ("path", "param"),
    [
        ("records/?fields=address&fields=district", "fields"),
        ("records/?fields=district&fields=name", "fields"),
        ("records/?ordering=district&ordering=-gender", "ordering"),
        ("records/?cursor=a&cursor=b", "cursor"),
        ("records/?page_size=1&page_size=2", "page_size"),
        ("records/?district=天河区&district=越秀区", "district"),
        ("records/?district__in=天河区&district__in=越秀区", "district__in"),
        ("export/?format=csv&format=ndjson", "format"),
        ("export/?format=csv&fields=name&fields=district", "fields"),
        ("export/?format=csv&ordering=district&ordering=gender", "ordering"),
        (f"records/{KEY}/?fields=address&fields=district", "fields"),
    ],
)
def test_a_parameter_given_twice_is_a_400_naming_it(api_world, path, param):
    before = AuditEvent.objects.count()
    response = api_world.clients["granted"].get(f"{BASE}/{path}", **PURPOSE)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert f"“{param}”" in response.json()["detail"]
    # A malformed query reads nothing, and is recorded as a refused read (probing shows).
    [event] = AuditEvent.objects.order_by("-seq")[: AuditEvent.objects.count() - before]
    assert event.outcome == "denied" and f"“{param}”" in event.reason
    assert event.request_id == response["X-Request-Id"] and event.row_count is None


def test_a_read_without_a_purpose_is_a_400_and_recorded_as_refused(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/records/?district=天河区")
    assert response.status_code == 400 and "X-Purpose" in response.json()["detail"]
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.outcome, event.purpose, event.dataset_code) == ("denied", "", "GA-RK-001")
    assert "X-Purpose" in event.reason and event.filters == {"district": "天河区"}


def test_different_filters_still_combine(api_world):
    response = api_world.clients["owner"].get(
        f"{BASE}/records/?birth_date__gte=1981-01-01&birth_date__lte=1983-12-31&district=天河区",
        **PURPOSE,
    )
    assert response.status_code == 200
    assert [r["id_number"] for r in response.json()["results"]] == [ROWS[3]["id_number"]]


@pytest.mark.parametrize(
    "ordering", ["--district", "-", "district,--gender", "---gender", "district,-district"]
)
@pytest.mark.parametrize("path", ["records/?", "export/?format=csv&"])
def test_malformed_ordering_is_a_400_naming_the_parameter(api_world, path, ordering):
    response = api_world.clients["granted"].get(f"{BASE}/{path}ordering={ordering}", **PURPOSE)
    assert response.status_code == 400
    assert "“ordering”" in response.json()["detail"]


def test_one_leading_minus_still_orders_descending(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/records/?ordering=-id_number", **PURPOSE)
    ids = [r["id_number"] for r in response.json()["results"]]
    assert ids == sorted((r["id_number"] for r in ROWS), reverse=True)


def test_fields_naming_no_field_is_a_400(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/records/?fields=,", **PURPOSE)
    assert response.status_code == 400
    assert "“fields”" in response.json()["detail"]
