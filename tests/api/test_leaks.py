"""A hidden or masked value never appears in any response body, whatever the caller tries."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from tests.api.conftest import PURPOSE, ROWS

CODE = "GA-RK-001"
BASE = f"/api/v1/datasets/{CODE}"
SECRET = ROWS[0]["religion"]  # never shared
ADDRESS = ROWS[0]["address"]  # conditional, not granted to WJ
MOBILE = ROWS[0]["mobile"]  # granted masked
NAME = ROWS[0]["name"]  # granted masked
KEY = ROWS[0]["id_number"]  # granted in clear

PROBES = [
    f"{BASE}/records/?religion={SECRET}",
    f"{BASE}/records/?religion__contains=秘",
    f"{BASE}/records/?ordering=religion",
    f"{BASE}/records/?fields=religion",
    f"{BASE}/records/?address={ADDRESS}",
    f"{BASE}/records/?mobile={MOBILE}",
    f"{BASE}/records/?mobile__gte=138",
    f"{BASE}/records/?name__in={NAME},李四",
    f"{BASE}/records/?ordering=-mobile",
    f"{BASE}/records/?fields=id_number,address",
    f"{BASE}/export/?format=csv&religion={SECRET}",
    f"{BASE}/export/?format=ndjson&ordering=name",
    f"{BASE}/records/{KEY}/?fields=address",
    f"{BASE}/records/{KEY}/?fields=id_number,religion",
    f"{BASE}/records/{KEY}/?religion={SECRET}",
    f"{BASE}/records/{KEY}/?mobile={MOBILE}",
    f"{BASE}/records/{KEY}/?ordering=-mobile",
]


def _hidden_values() -> list[str]:
    values = [r["religion"] for r in ROWS] + [r["address"] for r in ROWS if r["address"]]
    values += [r["mobile"] for r in ROWS] + [r["name"] for r in ROWS]
    # One-character values (e.g. the address "无") also occur in translated messages.
    return [v for v in values if len(v) > 1]


@pytest.mark.parametrize("path", PROBES)
def test_probing_hidden_or_masked_fields_is_403_and_reveals_nothing(api_world, path):
    before = AuditEvent.objects.filter(outcome="denied").count()
    response = api_world.clients["granted"].get(path, **PURPOSE)
    assert response.status_code == 403
    body = response.content.decode()
    for value in _hidden_values():
        assert value not in body
    assert AuditEvent.objects.filter(outcome="denied").count() == before + 1


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_exports_and_pages_hold_only_masked_values(api_world, fmt):
    client = api_world.clients["granted"]
    bodies = [
        client.get(f"{BASE}/records/", **PURPOSE).content.decode(),
        b"".join(client.get(f"{BASE}/export/?format={fmt}", **PURPOSE).streaming_content).decode(),
        client.get(f"{BASE}/records/{KEY}/", **PURPOSE).content.decode(),
        client.get(f"{BASE}/records/{KEY}/?fields=name,mobile", **PURPOSE).content.decode(),
    ]
    for body in bodies:
        for value in _hidden_values():
            assert value not in body
        assert "张*" in body


def test_key_lookup_without_the_key_in_clear_reveals_nothing(api_world):
    response = api_world.clients["no_grant"].get(
        f"{BASE}/records/{ROWS[0]['id_number']}/", **PURPOSE
    )
    assert response.status_code == 403
    assert ROWS[0]["id_number"] not in response.content.decode().replace(
        "/records/" + ROWS[0]["id_number"], ""
    )


def test_malformed_value_error_does_not_echo_the_value(api_world):
    response = api_world.clients["owner"].get(
        f"{BASE}/records/?birth_date=SECRET-PROBE-VALUE", **PURPOSE
    )
    assert response.status_code == 400
    assert "SECRET-PROBE-VALUE" not in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/records/?religion={SECRET}&religion={SECRET}",
        f"{BASE}/records/?mobile={MOBILE}&mobile={ROWS[1]['mobile']}",
        f"{BASE}/records/?fields=address&fields=district",
        f"{BASE}/records/{KEY}/?fields=district&fields=address",
        f"{BASE}/export/?format=csv&fields=district&fields=religion",
    ],
)
def test_a_parameter_given_twice_is_400_and_reveals_nothing(api_world, path):
    response = api_world.clients["granted"].get(path, **PURPOSE)
    assert response.status_code == 400
    body = response.content.decode()
    for value in _hidden_values():
        assert value not in body


@pytest.mark.parametrize(
    "path", ["/export/?format=csv", "/records/?page_size=7", f"/records/{ROWS[0]['id_number']}/"]
)
def test_head_of_a_read_serves_nothing_and_logs_no_read(api_world, path):
    before = AuditEvent.objects.count()
    response = api_world.clients["granted"].head(f"{BASE}{path}", **PURPOSE)
    assert response.status_code == 405 and not response.streaming
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("fmt", ["csv", "api", "json"])
def test_a_format_parameter_on_a_json_read_is_an_unknown_filter_and_recorded(api_world, fmt):
    before = AuditEvent.objects.filter(outcome="denied").count()
    response = api_world.clients["granted"].get(f"{BASE}/records/?format={fmt}", **PURPOSE)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.filter(outcome="denied").count() == before + 1
