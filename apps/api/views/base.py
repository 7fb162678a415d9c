"""What every API view shares: authentication, throttling, problem responses, read headers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse, QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.api.auth import ApplicationAuthentication, CsrfSessionAuthentication
from apps.api.permissions import IsMember
from apps.api.throttling import ApplicationRateThrottle
from apps.common.openapi import PROBLEM, PROBLEM_MEDIA_TYPE, problems
from apps.common.renderers import JsonOnly
from apps.common.security import client_ip

READ_HEADERS = [
    OpenApiParameter(
        "X-Purpose",
        {"type": "string", "minLength": 1, "pattern": r"\S"},
        OpenApiParameter.HEADER,
        required=True,
        description=str(_("Why the data is read; recorded in the audit log. 400 without it.")),
    ),
    OpenApiParameter(
        "X-Case-Id",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="Optional: the case the read is for; recorded in the audit log "
        "(up to 128 characters are kept).",
    ),
    OpenApiParameter(
        "X-End-User",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="Optional: the person the read is for; recorded in the audit log "
        "(up to 255 characters are kept).",
    ),
]


class ApiView(APIView):
    authentication_classes = [ApplicationAuthentication, CsrfSessionAuthentication]
    permission_classes = [IsMember]
    throttle_classes = [ApplicationRateThrottle]
    content_negotiation_class = JsonOnly

    def handle_exception(self, exc):
        # Service-layer Django exceptions become problem details like DRF's own.
        if isinstance(exc, DjangoValidationError):
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            exc = exceptions.ValidationError(detail)
        elif isinstance(exc, DjangoPermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)


class Conflict(exceptions.APIException):
    """409: the object is not in a state that allows the action (decided, closed, pending)."""

    status_code = 409
    default_detail = "Conflict"
    default_code = "conflict"


def valid_input(serializer_class, request) -> dict:
    """The request body checked by `serializer_class`; a 400 problem naming the fields if not.
    A member the endpoint does not take is refused, not ignored: a misspelt or unsupported
    option (a row filter on an approval) would otherwise be dropped and the action done
    without it."""
    serializer = serializer_class(data=request.data)
    unknown = (
        sorted(set(request.data) - set(serializer.fields)) if hasattr(request.data, "keys") else []
    )
    if unknown:
        raise exceptions.ValidationError(
            {name: [_("This endpoint takes no “%(name)s”.") % {"name": name}] for name in unknown}
        )
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


QUERY_REFUSED = (
    "Malformed query (problem details; `errors` names each parameter at fault): a parameter "
    "this endpoint does not take (`format` included: it is an export's), one given twice, or a "
    "value it does not accept. Also NUL characters in the path or query."
)


def query_problems(*codes: int) -> dict[tuple[int, str], OpenApiResponse]:
    """`problems(400, *codes)` for an endpoint reading its query through `query_checked`: the
    400 says which queries are refused."""
    responses = problems(400, *codes)
    responses[(400, PROBLEM_MEDIA_TYPE)] = OpenApiResponse(PROBLEM, description=QUERY_REFUSED)
    return responses


def query_checked(query: QueryDict, *, known: Iterable[str]) -> None:
    """A query parameter the endpoint does not take, or one it takes given twice, is a 400
    whose `errors` names it. Ignored, a misspelt or unsupported filter would be answered as if
    it had been applied (the whole list, or the whole log), and of a repeated one only the
    last value would count."""
    known = set(known)
    errors = {
        name: [_("This endpoint takes no “%(name)s”.") % {"name": name}]
        for name in sorted(set(query) - known)
    }
    for name, values in query.lists():
        if name in known and len(values) > 1:
            errors[name] = [_("“%(param)s” is given more than once.") % {"param": name}]
    if errors:
        raise exceptions.ValidationError(errors)


@dataclass(frozen=True)
class ChoiceQuery:
    """A query parameter taking one of a fixed set of values, documented with the set (an
    OpenAPI enum) and refused alike on every endpoint: absent or empty, no filter; another
    value, a 400 problem whose `errors` names the parameter and lists the values."""

    name: str
    choices: Sequence[str]
    description: str

    @property
    def parameter(self) -> OpenApiParameter:
        return OpenApiParameter(
            self.name,
            OpenApiTypes.STR,
            enum=list(self.choices),
            description=f"{self.description} Empty: no filter. Another value is a 400 whose "
            f"`errors` names `{self.name}` and lists the values.",
        )

    def value(self, request: Request) -> str | None:
        value = request.query_params.get(self.name) or None
        if value is not None and value not in self.choices:
            raise exceptions.ValidationError(
                {
                    self.name: [
                        _("Unknown value of %(name)s; use one of: %(allowed)s.")
                        % {"name": self.name, "allowed": ", ".join(self.choices)}
                    ]
                }
            )
        return value


def json_response(body, status: int = 200) -> HttpResponse:
    return HttpResponse(
        orjson.dumps(body, default=str, option=orjson.OPT_NON_STR_KEYS),
        status=status,
        content_type="application/json",
    )


@dataclass(frozen=True)
class ReadContext:
    purpose: str
    case_id: str
    end_user: str
    client_ip: str | None


_READ_HEADERS = ("X-Purpose", "X-Case-Id", "X-End-User")


def _header(request, name: str) -> tuple[str, str | None]:
    """The header's text and None, or "" and why it cannot be read. WSGI hands headers over as
    latin-1; agencies send UTF-8 (Chinese purposes). Bytes that are not UTF-8 (a GBK client)
    are refused: taken as latin-1 they would be recorded as unreadable text in the audit log."""
    value = request.headers.get(name, "")
    try:
        return value.encode("latin-1").decode("utf-8").strip(), None
    except UnicodeEncodeError:  # already text beyond latin-1 (not from a WSGI server)
        return value.strip(), None
    except UnicodeDecodeError:
        return "", _("The %(header)s header is not UTF-8: send its text encoded as UTF-8.") % {
            "header": name
        }


def read_context(request, *, required: bool = True) -> ReadContext:
    """The read's stated purpose and context; a 400 without a purpose or with a header that is
    not UTF-8, unless not `required` (to record the refused read first, without what could not
    be read)."""
    values, unreadable = {}, []
    for name in _READ_HEADERS:
        values[name], why = _header(request, name)
        if why:
            unreadable.append(why)
    if required and unreadable:
        raise exceptions.ParseError(unreadable[0])
    if required and not values["X-Purpose"]:
        raise exceptions.ParseError(_("The X-Purpose header is required on every record read."))
    return ReadContext(
        purpose=values["X-Purpose"],
        case_id=values["X-Case-Id"],
        end_user=values["X-End-User"],
        client_ip=client_ip(request),
    )


def page_link(request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    query = request.GET.copy()
    query["cursor"] = cursor
    return request.build_absolute_uri(request.path) + "?" + query.urlencode()
