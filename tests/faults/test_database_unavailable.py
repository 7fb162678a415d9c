"""Without a reachable database the server answers 503 problem details with Retry-After (not a
bare 500), on the API and elsewhere, while liveness stays up. Uses a server pointed at a closed
port, so it disturbs nothing else; the restart under load is in test_service_faults."""

from __future__ import annotations

import httpx
import orjson
import pytest

from tests.live import gunicorn_server

CLOSED = "postgres://govdata@127.0.0.1:1/nowhere"


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "path, headers",
    [
        ("/api/v1/catalog/", {"Authorization": "Bearer some-token"}),
        ("/api/v1/datasets/GA-RK-001/records/", {"Authorization": "Bearer t", "X-Purpose": "x"}),
        ("/oauth/token/", {}),
    ],
)
def test_unreachable_database_gives_503_problem_with_retry_after(db, tmp_path, path, headers):
    with gunicorn_server(
        workers=1, threads=2, log_path=tmp_path / "g.log", DATABASE_URL=CLOSED
    ) as url:
        method = "POST" if path.startswith("/oauth/") else "GET"
        data = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"}
        response = httpx.request(
            method, url + path, headers={"X-Request-Id": "db-down-1", **headers},
            data=data if method == "POST" else None, timeout=30,
        )  # fmt: skip
        assert httpx.get(url + "/healthz").status_code == 200
    assert response.status_code == 503, response.text
    assert int(response.headers["Retry-After"]) > 0
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = orjson.loads(response.content)
    assert body["status"] == 503 and body["request_id"] == "db-down-1"
    assert body["type"].endswith("database_unavailable")
