"""config.web_worker: the requests gunicorn refuses itself are problem documents with a request
id, like every API error, and the request line may be as long as config.gunicorn_conf says. Real
gunicorn, raw sockets (an HTTP client would refuse to send what these tests send)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import orjson
import pytest

from config.web_worker import refused_status

pytestmark = pytest.mark.timeout(180)


def exchange(base_url: str, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send `raw` as it is; the status, headers (lower-case names) and body of the answer."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def get(path: str, *extra_headers: str) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *extra_headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def assert_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> dict:
    assert status == expected
    assert headers["content-type"] == "application/problem+json"
    problem = orjson.loads(body)
    assert problem["status"] == expected
    assert problem["request_id"] == headers["x-request-id"]
    assert problem["detail"]
    return problem


def test_a_request_line_over_the_limit_is_a_414_problem_naming_the_limit(live_server_url):
    path = "/api/v1/departments/?code__in=" + ",".join(["440106199001011234"] * 450)
    assert len(path) > 8190
    problem = assert_problem(*exchange(live_server_url, get(path)), 414)
    assert "8190" in problem["detail"]


def test_a_request_line_longer_than_gunicorns_default_reaches_the_application(
    live_server_url,
):
    # gunicorn's own default limit is 4094 bytes: about 200 ID numbers in one __in filter.
    path = "/healthz?batch=" + ",".join(["440106199001011234"] * 350)
    assert 4094 < len(path) < 8000
    status, headers, _body = exchange(live_server_url, get(path))
    assert status == 200
    assert headers["x-request-id"]


def test_headers_over_the_limit_are_a_431_problem(live_server_url):
    headers = [f"X-Filler-{i}: {'x' * 100}" for i in range(120)]
    assert_problem(*exchange(live_server_url, get("/healthz", *headers)), 431)


def test_a_header_with_a_control_character_is_a_400_problem(live_server_url):
    assert_problem(*exchange(live_server_url, get("/healthz", "X-Purpose: ok\x01ctl")), 400)


def test_errors_of_the_application_itself_are_left_to_gunicorn():
    from gunicorn.http import errors

    assert refused_status(errors.InvalidResponseHeader("X-Bad")) is None
    assert refused_status(RuntimeError("a crash")) is None
    assert refused_status(errors.LimitRequestLine(9000, 8190)) == 414
