"""Security headers and the content security policy on every kind of page."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.urls import NoReverseMatch, reverse

PAGES = ["/healthz", "/admin/login/", "/api/docs/", "/no-such-page/"]


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.partition(" ")[2] for part in header.split("; ")}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_the_policy_and_security_headers(db, client, path):
    response = client.get(path)
    policy = _policy(response)
    assert policy["default-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    # drf-spectacular opens Swagger UI's OAuth2 pop-up with COOP unsafe-none on that one page.
    expected_coop = "unsafe-none" if path == "/api/docs/" else "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == expected_coop
    assert "camera=()" in response["Permissions-Policy"]
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def test_swagger_ui_is_self_hosted_and_its_inline_code_carries_the_nonce(db, client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    nonce = re.search(r"'nonce-([^']+)'", _policy(response)["script-src"]).group(1)
    assert f'<script nonce="{nonce}">' in html
    assert f'<style nonce="{nonce}">' in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn.jsdelivr.net" not in html
    assert re.search(r"<script>", html) is None  # no inline script without the nonce


def test_each_response_gets_a_fresh_nonce(db, client):
    first = _policy(client.get("/api/docs/"))["script-src"]
    second = _policy(client.get("/api/docs/"))["script-src"]
    assert first != second


def test_admin_pages_need_no_inline_code(db, client):
    html = client.get(reverse("admin:login")).content.decode()
    assert re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html) is None
    assert " style=" not in html


@pytest.mark.parametrize(
    ("trusted", "verify", "subject", "expected"),
    [
        (True, "SUCCESS", "CN=health-code,O=省卫生健康委员会", "CN=health-code,O=省卫生健康委员会"),
        (True, "FAILED:unable to verify", "CN=forged", None),
        (True, "NONE", "", None),
        (False, "SUCCESS", "CN=forged-by-a-direct-client", None),
    ],
)
def test_client_certificate_subject_only_from_a_trusted_proxy(
    settings, trusted, verify, subject, expected
):
    from django.http import HttpResponse
    from django.test import RequestFactory

    from apps.common.security import ClientCertificateMiddleware

    settings.GOVDATA_MTLS_PROXY_HEADERS = trusted
    request = RequestFactory().get(
        "/api/v1/catalog/", HTTP_X_SSL_CLIENT_VERIFY=verify, HTTP_X_SSL_CLIENT_S_DN=subject
    )
    ClientCertificateMiddleware(lambda r: HttpResponse())(request)
    assert request.client_cert_subject == expected


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)


def _admin_pages() -> list[str]:
    from django.contrib import admin

    pages = []
    for model in admin.site._registry:
        for view in ("changelist", "add"):  # 403 where adding is not allowed
            with contextlib.suppress(NoReverseMatch):  # an admin may drop a view's URL
                pages.append(
                    reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}")
                )
    return sorted(pages)


def test_no_admin_page_has_inline_script_without_the_nonce(db, client, django_user_model):
    """Generated over every registered model admin: a new admin template with inline code
    must carry `nonce="{{ request.csp_nonce }}"`, or browsers refuse to run it."""
    root = django_user_model.objects.create_superuser("root", "root@example.gov.cn", "x")
    client.force_login(root)
    checked = 0
    for path in _admin_pages():
        response = client.get(path)
        if response.status_code != 200:
            continue
        checked += 1
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"])
        for attributes in _INLINE_SCRIPT.findall(response.content.decode()):
            if "application/json" in attributes:
                continue  # data, not code (json_script)
            assert nonce and f'nonce="{nonce.group(1)}"' in attributes, (path, attributes)
        assert ' style="' not in response.content.decode(), path
    assert checked >= 10
    assert "/admin/django_celery_beat/periodictask/add/" in _admin_pages()
