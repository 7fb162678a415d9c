"""Errors outside DRF: problem details under /api/ and /oauth/, the admin's own pages (in the
user's language, with the policy's reason) everywhere else."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation


def test_an_unknown_admin_address_is_a_404_page_in_the_admins_look(world, client):
    client.force_login(world.provider_officer)
    with translation.override("zh-hans"):
        response = client.get(
            "/admin/sharing/datarequest/999999/approve/", HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    assert response.status_code == 404
    page = response.content.decode()
    assert "页面没有找到" in page and 'id="header"' in page
    assert "Not Found" not in page


def test_a_refused_admin_action_is_a_403_page_with_the_policys_reason(world, rf):
    from django.core.exceptions import PermissionDenied

    from apps.api.errors import handler403

    request = rf.get("/admin/sharing/grant/1/revoke/")
    request.user = world.consumer_officer
    response = handler403(request, PermissionDenied("只有 省公安厅 的数据专员可以执行此操作。"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "只有 省公安厅 的数据专员可以执行此操作。" in page and 'id="header"' in page


def test_a_refusal_without_a_reason_says_the_role_does_not_allow_it(world, client):
    client.force_login(world.provider_officer)
    url = reverse("admin:catalog_dataset_delete", args=[world.dataset.pk])
    response = client.post(url, {"post": "yes"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert "Your role does not allow this action or page." in response.content.decode()


def test_an_unknown_api_address_is_still_a_problem_document(world, client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["request_id"]


def test_view_site_leads_to_the_api_documentation(world, client):
    client.force_login(world.provider_officer)
    page = client.get(reverse("admin:index")).content.decode()
    assert 'href="/api/docs/"' in page


def test_a_method_the_token_endpoint_does_not_take_is_a_405_problem_with_allow(world, client):
    response = client.get("/oauth/token/")
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/problem+json")
    assert "POST" in response["Allow"] and "GET" in response.json()["detail"]
    assert response.json()["request_id"] == response["X-Request-Id"]


def test_a_host_the_platform_does_not_serve_is_a_400_problem_under_the_api(world, client, settings):
    settings.ALLOWED_HOSTS = ["govdata.example"]
    response = client.get("/api/v1/catalog/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")


def test_the_oauth_endpoints_own_errors_stay_oauth_json(world, client):
    response = client.post("/oauth/token/", {"grant_type": "client_credentials"})
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "invalid_request")
