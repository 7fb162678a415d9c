"""The web server's worker: gunicorn's threaded worker, except that the requests gunicorn
refuses itself, before Django sees them (a request line or headers over the limits, a malformed
header), are answered like every other API error: an RFC 9457 problem document with a request
id (product.md), not gunicorn's HTML page, which an agency's client cannot read or quote.

The request id is the client's X-Request-Id when its headers could be read (RequestIdMiddleware's
rules decide whether the id is taken), so that the agency finds the refusal under the id it
logged. Beside a line that is not `name: value` (a control character, no colon, a bad name)
the well-formed lines, the id's among them, still say what they say; an id continued on a
folded line does not count (its value is not the one its line shows). A fresh id when the
headers could not be read: after a request line over the limit (gunicorn stops before the
headers, and reading on to find them would undo the limit) or a header section that does not
end within gunicorn's buffer. Over the number of fields or a field's size, the section was
read whole: the id counts. The same headers choose the language of the problem's `detail` as
LocaleMiddleware would (the language cookie, then Accept-Language); without them, the
platform's language."""

from __future__ import annotations

import re
import uuid

import orjson
from gunicorn import util
from gunicorn.http import errors
from gunicorn.http.message import Request
from gunicorn.http.parser import RequestParser
from gunicorn.workers.gthread import ThreadWorker

# The malformed requests answered here, with their status; anything else (a failing
# application, an unsupported transfer coding) keeps gunicorn's own handling.
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (errors.LimitRequestLine, 414),
    (errors.LimitRequestHeaders, 431),
    (errors.InvalidResponseHeader, 0),  # the application's fault, not the client's: a 500
    (errors.InvalidResponseHeaderName, 0),
    (errors.InvalidRequestLine, 400),
    (errors.InvalidRequestMethod, 400),
    (errors.InvalidHTTPVersion, 400),
    (errors.InvalidHeader, 400),
    (errors.InvalidHeaderName, 400),
    (errors.ObsoleteFolding, 400),
    (errors.InvalidChunkSize, 400),
    (errors.ChunkMissingTerminator, 400),
    (errors.InvalidChunkExtension, 400),
)
_REASONS = {400: "Bad Request", 414: "URI Too Long", 431: "Request Header Fields Too Large"}

# One header line (RFC 9110 5.1, 5.5, RFC 9112 5): a token, a colon, a value without control
# characters (SP and HTAB aside), optional whitespace around it; a line folded onto the
# previous one starts with whitespace and is no such line.
_FIELD_LINE = re.compile(
    rb"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*"
)


def refused_status(exc: BaseException) -> int | None:
    """The status of a request gunicorn refused with `exc`, or None when this worker leaves
    the answer to gunicorn."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status or None
    return None


def header_fields(head: bytes) -> list[tuple[str, str]]:
    """The (upper-case name, value) fields of a header section as received, leaving out the
    lines that are not header fields. A field continued on a folded line (obsolete folding)
    is left out too: its value is not the one its line shows, and it is not certain which
    value the client meant. The other fields keep their meaning: a malformed line (a control
    character, no colon, a bad name) says nothing about the well-formed lines beside it, so
    the client's X-Request-Id is still its own."""
    fields: list[tuple[str, str] | None] = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t"):  # continues the field before it
            if fields:
                fields[-1] = None
            continue
        match = _FIELD_LINE.fullmatch(line)
        fields.append(
            None
            if match is None
            else (match[1].decode("ascii").upper(), match[2].decode("latin-1"))
        )
    return [field for field in fields if field is not None]


class PartialRequest(Request):
    """gunicorn's request, keeping its header section as received. gunicorn refuses a request
    from inside this constructor, so the worker never gets the request refused: the exception
    carries it (`partial_request`)."""

    def __init__(self, *args, **kwargs) -> None:
        self.head: bytes | None = None
        self.headers_complete = False
        try:
            super().__init__(*args, **kwargs)
        except errors.ParseException as exc:
            exc.partial_request = self
            raise

    def parse_headers(self, data, from_trailer=False):
        if not from_trailer:
            self.head = bytes(data)
        return super().parse_headers(data, from_trailer=from_trailer)

    def set_body_reader(self) -> None:
        # Called once parsing returned: gunicorn has read every header into self.headers.
        self.headers_complete = True
        super().set_body_reader()


def client_fields(req, exc: BaseException) -> list[tuple[str, str]] | None:
    """The (upper-case name, value) header fields of the request refused with `exc` when they
    could be read (the module's docstring says when), None otherwise."""
    request = req if req is not None else getattr(exc, "partial_request", None)
    if request is None:
        return None
    if req is not None or request.headers_complete:
        return request.headers
    if request.head is not None:
        return header_fields(request.head)
    return None  # refused before the headers were read (the request line), or by gunicorn_h1c


def _joined(fields: list[tuple[str, str]] | None, name: str) -> str | None:
    """The values of the header `name` as gunicorn hands a repeated header to Django: joined
    with commas; None when it was not sent."""
    values = [value for field, value in fields or () if field == name]
    return ",".join(values) if values else None


def client_request_id(req, exc: BaseException) -> str | None:
    """The X-Request-Id the client sent with the request refused with `exc`, when its headers
    could be read and RequestIdMiddleware would take it; None otherwise."""
    from apps.common.middleware import accepted_request_id

    # Repeated, the header reaches Django as one comma-joined value, which it refuses.
    value = _joined(client_fields(req, exc), "X-REQUEST-ID")
    return accepted_request_id(value) if value is not None else None


def client_language(req, exc: BaseException) -> str:
    """The language LocaleMiddleware would answer the request refused with `exc` in: the
    language cookie's, else the best of Accept-Language among settings.LANGUAGES, else the
    platform's (also when the headers could not be read). Django's own negotiation, given the
    headers as it would have had them: no request reached it."""
    from django.http import HttpRequest
    from django.http.cookie import parse_cookie
    from django.utils import translation

    fields = client_fields(req, exc)
    request = HttpRequest()
    accept = _joined(fields, "ACCEPT-LANGUAGE")
    if accept is not None:
        request.META["HTTP_ACCEPT_LANGUAGE"] = accept
    cookies = _joined(fields, "COOKIE")
    if cookies is not None:
        request.COOKIES = parse_cookie(cookies)
    return translation.get_language_from_request(request)


def refusal_detail(status: int, limit: int, language: str | None = None) -> str:
    from django.conf import settings
    from django.utils import translation
    from django.utils.translation import gettext as _

    # No request reached Django: the language negotiated from the headers (client_language),
    # or the platform's.
    with translation.override(language or settings.LANGUAGE_CODE):
        if status == 414:
            return _(
                "The request line is longer than %(limit)d bytes. Put fewer values in the "
                "query (an __in filter, for instance) and read the rest in further requests."
            ) % {"limit": limit}
        if status == 431:
            return _("The request's headers are too large.")
        return _("The request is not well-formed HTTP (its request line or a header).")


def refusal_response(
    status: int, limit: int, request_id: str | None = None, language: str | None = None
) -> bytes:
    from django.conf import settings

    from apps.common.problems import problem_body

    request_id = request_id or uuid.uuid4().hex
    language = language or settings.LANGUAGE_CODE
    detail = refusal_detail(status, limit, language)
    body = orjson.dumps(problem_body(status_code=status, detail=detail, request_id=request_id))
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {request_id}\r\n"
        # As LocaleMiddleware marks a negotiated answer, for caches between.
        "Vary: Accept-Language, Cookie\r\n"
        f"Content-Language: {language}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ProblemThreadWorker(ThreadWorker):
    def init_process(self) -> None:
        # HTTP/1 requests of this worker process parse into a PartialRequest (HTTP/2 has a
        # parser of its own); set on the class, in the worker process only, so that no part
        # of gunicorn's connection handling is written again here.
        RequestParser.mesg_class = PartialRequest
        super().init_process()

    def handle_error(self, req, client, addr, exc) -> None:
        status = refused_status(exc)
        if status is None:
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("Refused a malformed request from %s: %s", (addr or ("",))[0], exc)
        response = refusal_response(
            status,
            self.cfg.limit_request_line,
            client_request_id(req, exc),
            client_language(req, exc),
        )
        try:
            util.write_nonblock(client, response)
        except Exception:  # noqa: BLE001 - the client may be gone; nothing more to tell it
            self.log.debug("Failed to send the refusal.")
