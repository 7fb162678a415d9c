"""Request-level security helpers: the real client address behind proxies, extra headers."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def client_ip(request: HttpRequest) -> str | None:
    """The client's address, trusting X-Forwarded-For only as far as our own proxies go.

    Each trusted proxy appends the address it received the connection from, so with N trusted
    proxies the client is the N-th entry from the end. Entries before it were written by the
    client and are ignored: an attacker cannot pick the address that lockouts and audit see.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = getattr(settings, "GOVDATA_TRUSTED_PROXY_COUNT", 0)
    if hops <= 0:
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [part.strip() for part in header.split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote  # a request that did not come through all our proxies
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class SecurityHeadersMiddleware:
    """Headers Django's SecurityMiddleware does not set. The CSP comes from django-csp."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.permissions_policy = getattr(settings, "PERMISSIONS_POLICY", "")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.permissions_policy:
            response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        response.headers.setdefault("X-Permitted-Cross-Domain-Policies", "none")
        return response


class ClientCertificateMiddleware:
    """The client certificate subject the reverse proxy verified (mTLS), as
    `request.client_cert_subject` (None when there is none).

    Trusted only when GOVDATA_MTLS_PROXY_HEADERS is on: the proxy must then set both headers on
    every request, overwriting whatever the client sent (see docs/deployment.md).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.client_cert_subject = None
        if getattr(settings, "GOVDATA_MTLS_PROXY_HEADERS", False):
            verified = request.META.get("HTTP_X_SSL_CLIENT_VERIFY", "") == "SUCCESS"
            subject = request.META.get("HTTP_X_SSL_CLIENT_S_DN", "").strip()
            request.client_cert_subject = subject if verified and subject else None
        return self.get_response(request)
