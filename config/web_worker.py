"""The web server's worker: gunicorn's threaded worker, except that the requests gunicorn
refuses itself, before Django sees them (a request line or headers over the limits, a malformed
header), are answered like every other API error: an RFC 9457 problem document with a request
id (product.md), not gunicorn's HTML page, which an agency's client cannot read or quote."""

from __future__ import annotations

import uuid

import orjson
from gunicorn import util
from gunicorn.http import errors
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


def refused_status(exc: BaseException) -> int | None:
    """The status of a request gunicorn refused with `exc`, or None when this worker leaves
    the answer to gunicorn."""
    for kind, status in _STATUS:
        if isinstance(exc, kind):
            return status or None
    return None


def refusal_detail(status: int, limit: int) -> str:
    from django.conf import settings
    from django.utils import translation
    from django.utils.translation import gettext as _

    # No request has been parsed, so no language negotiated: the platform's language.
    with translation.override(settings.LANGUAGE_CODE):
        if status == 414:
            return _(
                "The request line is longer than %(limit)d bytes. Put fewer values in the "
                "query (an __in filter, for instance) and read the rest in further requests."
            ) % {"limit": limit}
        if status == 431:
            return _("The request's headers are too large.")
        return _("The request is not well-formed HTTP (its request line or a header).")


def refusal_response(status: int, limit: int) -> bytes:
    from apps.common.problems import problem_body

    request_id = uuid.uuid4().hex
    body = orjson.dumps(
        problem_body(
            status_code=status, detail=refusal_detail(status, limit), request_id=request_id
        )
    )
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/problem+json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-Id: {request_id}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class ProblemThreadWorker(ThreadWorker):
    def handle_error(self, req, client, addr, exc) -> None:
        status = refused_status(exc)
        if status is None:
            super().handle_error(req, client, addr, exc)
            return
        self.log.warning("Refused a malformed request from %s: %s", (addr or ("",))[0], exc)
        try:
            util.write_nonblock(client, refusal_response(status, self.cfg.limit_request_line))
        except Exception:  # noqa: BLE001 - the client may be gone; nothing more to tell it
            self.log.debug("Failed to send the refusal.")
