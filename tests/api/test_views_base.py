"""apps.api.views.base: the read's context headers as WSGI hands them over (latin-1 text of the
bytes sent)."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent

BASE = "/api/v1/datasets/GA-RK-001"


def as_wsgi(text: str, encoding: str) -> str:
    """A header sent as `text` in `encoding`, as a WSGI server hands it to Django."""
    return text.encode(encoding).decode("latin-1")


def test_a_utf8_purpose_is_recorded_as_sent(api_world):
    headers = {"HTTP_X_PURPOSE": as_wsgi("疫苗接种核验", "utf-8")}
    response = api_world.clients["granted"].get(f"{BASE}/records/", **headers)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="list").latest("pk").purpose == "疫苗接种核验"


@pytest.mark.parametrize("header", ["HTTP_X_PURPOSE", "HTTP_X_END_USER", "HTTP_X_CASE_ID"])
def test_a_header_that_is_not_utf8_is_a_400_naming_it_and_a_refused_read(api_world, header):
    headers = {"HTTP_X_PURPOSE": "核验", header: as_wsgi("疫苗接种核验", "gbk")}
    response = api_world.clients["granted"].get(f"{BASE}/records/", **headers)
    assert response.status_code == 400
    name = header.removeprefix("HTTP_").replace("_", "-").title()  # X-End-User
    assert name in response.json()["detail"] and "UTF-8" in response.json()["detail"]
    event = AuditEvent.objects.filter(action="list").latest("pk")
    assert event.outcome == "denied"
    # What could not be read is not recorded as unreadable text.
    assert "疫苗" not in event.body and "\u00d2" not in event.body
