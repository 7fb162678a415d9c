"""config.web_worker: the requests gunicorn refuses itself are problem documents with a request
id, like every API error, and the request line may be as long as config.gunicorn_conf says. Real
gunicorn, raw sockets (an HTTP client would refuse to send what these tests send)."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import orjson
import pytest
from gunicorn.config import Config
from gunicorn.http.unreader import IterUnreader

from config.web_worker import (
    PartialRequest,
    client_language,
    client_request_id,
    refusal_response,
    refused_status,
)

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


# --- The client's request id on a refusal -----------------------------------------------------

ID = "X-Request-Id: agency-42.req:7"
FILLER = [f"X-Filler-{i}: {'x' * 100}" for i in range(120)]  # over gunicorn's 100 fields


def refused_with(raw: bytes) -> tuple[int | None, str | None]:
    """The status and request id of the refusal of `raw` by gunicorn's own parser."""
    cfg = Config()
    cfg.set("limit_request_line", 8190)
    with pytest.raises(Exception) as refused:  # noqa: PT011 - whatever gunicorn raises
        PartialRequest(cfg, IterUnreader([raw]), ("127.0.0.1", 40000))
    return refused_status(refused.value), client_request_id(None, refused.value)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([ID, "Content-Length: abc"], 400),  # refused once every header was read
        (["Content-Length: abc", "X-Request-Id:  agency-42.req:7 "], 400),
        ([ID, "Host: twice"], 400),  # a second Host, refused while reading the headers
        ([ID, *FILLER], 431),
        ([*FILLER, ID], 431),  # past the field gunicorn stopped at
        ([ID, f"X-Long: {'x' * 9000}"], 431),
        # Beside a malformed line the well-formed ones still hold, the id's among them.
        ([ID, "X-Purpose: ok\x01ctl"], 400),  # a control character
        (["X-Purpose: ok\x00nul", ID], 400),
        ([ID, "no colon here"], 400),
        ([ID, "Bad Name: x"], 400),
        ([ID, "X-Folded: a", " b"], 400),  # obsolete folding of another field
    ],
)
def test_a_refusal_takes_the_clients_request_id_when_the_headers_could_be_read(headers, status):
    assert refused_with(get("/healthz", *headers)) == (status, "agency-42.req:7")


@pytest.mark.parametrize(
    "headers",
    [
        [ID, " folded-on", "Content-Length: abc"],  # the id's value goes on: not the one shown
        ["X-Request-Id: agency-42.req:7\x01", "Content-Length: abc"],  # the id's line is bad
        [ID, "X-Request-Id: other", "Content-Length: abc"],  # two ids: Django takes neither
        ["X-Request-Id: not/ours", "Content-Length: abc"],  # not RequestIdMiddleware's form
        [f"X-Request-Id: {'a' * 129}", "Content-Length: abc"],
    ],
)
def test_a_refusal_gets_a_fresh_request_id_when_the_clients_cannot_be_taken(headers):
    status, request_id = refused_with(get("/healthz", *headers))
    assert status == 400 and request_id is None


def test_a_request_line_over_the_limit_gets_a_fresh_request_id():
    # gunicorn stops at the request line: the headers after it are never read.
    status, request_id = refused_with(get("/healthz?q=" + "x" * 9000, ID))
    assert status == 414 and request_id is None


def test_the_live_server_echoes_the_clients_request_id_on_its_refusals(live_server_url):
    for headers, expected in [([ID, *FILLER], 431), ([ID, "Content-Length: abc"], 400)]:
        raw = get("/healthz", *headers)
        problem = assert_problem(*exchange(live_server_url, raw), expected)
        assert problem["request_id"] == "agency-42.req:7"


def test_the_live_server_refuses_unreadable_headers_with_a_fresh_request_id(live_server_url):
    for raw, expected in [
        (get("/healthz", ID, " folded-on"), 400),
        (get("/healthz?q=" + "x" * 9000, ID), 414),
    ]:
        problem = assert_problem(*exchange(live_server_url, raw), expected)
        assert problem["request_id"] != "agency-42.req:7" and len(problem["request_id"]) == 32


def test_the_live_server_echoes_the_id_beside_a_malformed_header_line(live_server_url):
    raw = get("/healthz", ID, "X-Purpose: ok\x01ctl")
    problem = assert_problem(*exchange(live_server_url, raw), 400)
    assert problem["request_id"] == "agency-42.req:7"


# --- The language of a refusal ------------------------------------------------------------------

MALFORMED = "Content-Length: abc"  # refused once every header was read


def refusal_language(raw: bytes) -> str:
    """The language the refusal of `raw` by gunicorn's own parser is worded in."""
    cfg = Config()
    cfg.set("limit_request_line", 8190)
    with pytest.raises(Exception) as refused:  # noqa: PT011 - whatever gunicorn raises
        PartialRequest(cfg, IterUnreader([raw]), ("127.0.0.1", 40000))
    return client_language(None, refused.value)


@pytest.mark.parametrize(
    ("headers", "language"),
    [
        (["Accept-Language: zh-CN,zh;q=0.9,en;q=0.8", MALFORMED], "zh-hans"),
        (["Accept-Language: en-US,en;q=0.9", MALFORMED], "en"),
        (["Accept-Language: zh-Hans", *FILLER], "zh-hans"),  # 431: the section was read whole
        (["Accept-Language: fr-FR, zh;q=0.5", MALFORMED], "zh-hans"),  # the best one we have
        (["Accept-Language: zh", "X-Purpose: ok\x01ctl"], "zh-hans"),  # beside a malformed line
        # Repeated, as gunicorn hands it to Django: one comma-joined value.
        (["Accept-Language: fr", "Accept-Language: zh-hans", MALFORMED], "zh-hans"),
        # The language cookie first (the site's language switch), as LocaleMiddleware reads it.
        (
            ["Cookie: sessionid=x; django_language=zh-hans", "Accept-Language: en", MALFORMED],
            "zh-hans",
        ),
    ],
)
def test_a_refusal_speaks_the_language_locale_middleware_would(headers, language):
    assert refusal_language(get("/healthz", *headers)) == language


@pytest.mark.parametrize(
    "raw",
    [
        get("/healthz", "Accept-Language: fr, *;q=0.1", MALFORMED),  # nothing we speak
        get("/healthz", "Accept-Language: ;;;,,q=x", MALFORMED),  # unreadable
        get("/healthz", MALFORMED),  # none asked for
        get("/healthz?q=" + "x" * 9000, "Accept-Language: zh-hans"),  # 414: headers never read
    ],
)
def test_a_refusal_speaks_the_platforms_language_without_a_language_to_take(raw, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    assert refusal_language(raw) == "zh-hans"
    settings.LANGUAGE_CODE = "en"
    assert refusal_language(raw) == "en"


def test_the_refusal_is_worded_and_marked_in_the_language_given():
    head, _, body = refusal_response(431, 8190, "r-1", "zh-hans").partition(b"\r\n\r\n")
    assert orjson.loads(body)["detail"] == "请求头过大。"
    assert b"\r\nContent-Language: zh-hans\r\n" in head + b"\r\n"
    assert b"\r\nVary: Accept-Language, Cookie\r\n" in head
    _head, _, english = refusal_response(431, 8190, "r-1", "en").partition(b"\r\n\r\n")
    assert orjson.loads(english)["detail"] == "The request's headers are too large."


def test_the_live_server_answers_refusals_in_the_clients_language(live_server_url):
    # The test settings' language is English.
    for extra, detail, language in [
        (["Accept-Language: zh-CN,zh;q=0.9"], "请求头过大。", "zh-hans"),
        ([], "The request's headers are too large.", "en"),
    ]:
        raw = get("/healthz", ID, *extra, *FILLER)
        status, headers, body = exchange(live_server_url, raw)
        problem = assert_problem(status, headers, body, 431)
        assert problem["detail"] == detail and headers["content-language"] == language
        assert problem["request_id"] == "agency-42.req:7"
