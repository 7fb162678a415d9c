"""Request correlation (every response carries X-Request-Id, echoed or generated) and the
trailing-slash redirect."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from urllib.parse import quote, unquote_to_bytes, urlsplit

from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.encoding import iri_to_uri, repercent_broken_unicode
from django.utils.http import escape_leading_slashes

_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def accepted_request_id(incoming: str) -> str | None:
    """The client's X-Request-Id if it may serve as the request's id, else None. The web
    server's worker (config.web_worker) applies the same rule to the requests it refuses."""
    return incoming if _VALID_ID.fullmatch(incoming) else None


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-Id", "")
        request.request_id = accepted_request_id(incoming) or uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-Id"] = request.request_id
        return response


class PermanentRedirectKeepingMethod(HttpResponsePermanentRedirect):
    status_code = 308


# What a path (Django's escape_uri_path) and a query (iri_to_uri, less "#", which would end
# the query) may hold unescaped.
_PATH_SAFE = "/:@&+$,-_.!~*'()"
_QUERY_SAFE = "/%[]=:;$&()+,!?*@'~"
_DOT_SEGMENTS = (b".", b"..")


def _path_bytes(request: HttpRequest) -> bytes:
    """The request's path as the client's bytes. Django's `request.path` re-escapes bytes that
    are not UTF-8 (a %FF arrives as the text "%FF"), which a literal "%FF" (sent as %25FF)
    gives too; gunicorn's RAW_URI, the request target as received, tells them apart. Without
    it (another server, the test client), or when it is not this path (a rewriting proxy),
    the path is taken as Django reads it: its resource is the same for Django's URL patterns."""
    raw = request.META.get("RAW_URI", "")
    # "//x" is a path here, not a host (RFC 9112 origin-form, as gunicorn parses it).
    raw_path = urlsplit("." + raw).path[1:] if raw.startswith("//") else urlsplit(raw).path
    path = unquote_to_bytes(raw_path)
    if raw_path and repercent_broken_unicode(path).decode() == request.path:
        return path
    return request.path.encode()


def _query(request: HttpRequest) -> str:
    """The query string as sent, escaped where it was not. WSGI hands it over as latin-1 text
    of the client's bytes; Django's get_full_path() takes that text for characters and sends
    every non-ASCII byte back encoded twice (人 as %C3%A4%C2%BA%C2%BA)."""
    query = request.META.get("QUERY_STRING", "")
    try:
        return quote(query.encode("iso-8859-1"), safe=_QUERY_SAFE)
    except UnicodeEncodeError:  # already text beyond latin-1: not from a WSGI server
        return iri_to_uri(query)


def _has_dot_segment(path: bytes) -> bool:
    # Clients remove "." and ".." segments from a Location, escaped or not (WHATWG URL
    # treats %2e like "."), so no redirect can name such a path.
    return any(segment in _DOT_SEGMENTS for segment in path.split(b"/"))


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that the redirect adding a missing trailing slash is a 308, which
    keeps the method and the body: after a 301, clients turned an agency's
    `POST /api/v1/requests` into a GET of the list, answered 200, and the agency believed its
    request submitted. Its Location names exactly the path sent, plus the slash; a path no
    Location can name (a `..` segment) keeps its 404."""

    response_redirect_class = PermanentRedirectKeepingMethod

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        # The 404 of the path as sent is what Django answers wherever it does not redirect;
        # a redirect to another path (`/a/../b/` read by the client as `/b/`) would send the
        # request, and its body, to a resource the client never named.
        return super().should_redirect_with_slash(request) and not _has_dot_segment(
            _path_bytes(request)
        )

    def get_full_path_with_slash(self, request: HttpRequest) -> str:
        # Django refuses (in DEBUG) to redirect a POST, whose body a 301 loses; a 308 keeps it.
        location = quote(_path_bytes(request) + b"/", safe=_PATH_SAFE)
        query = _query(request)
        if query:
            location += "?" + query
        return escape_leading_slashes(location)
