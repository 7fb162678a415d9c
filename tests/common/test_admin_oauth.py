"""The OAuth2 client and token pages (django-oauth-toolkit) in the reader's language: column
headings, action names and the titles of tokens and codes; what the pages do is the package's,
unchanged (tokens revoked, not deleted), and the agency applications' own page is untouched."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils.functional import Promise
from oauth2_provider.models import AccessToken, Application, Grant, IDToken, RefreshToken

from apps.api.services import application_create
from apps.common import clock
from apps.common.admin_oauth import GovDataAccessTokenAdmin, GovDataRefreshTokenAdmin
from tests.factories import DepartmentFactory, UserFactory

pytestmark = pytest.mark.django_db

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


@pytest.fixture
def root(client):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(user)
    return user


@pytest.fixture
def app(db) -> Application:
    agency, _secret = application_create(
        department=DepartmentFactory(code="GA"), name="人口核验系统", scopes="read"
    )
    return agency.application


def _later() -> dt.datetime:
    return clock.now() + dt.timedelta(days=1)


@pytest.fixture
def tokens(app, root):
    id_token = IDToken.objects.create(
        application=app, user=root, expires=_later(), jti=uuid.uuid4()
    )
    access = AccessToken.objects.create(
        application=app, user=root, token="access-" + "x" * 40, expires=_later(), scope="read",
        id_token=id_token,
    )  # fmt: skip
    refresh = RefreshToken.objects.create(
        application=app, user=root, token="refresh-" + "x" * 40, access_token=access
    )
    grant = Grant.objects.create(
        application=app, user=root, code="code-" + "x" * 40, expires=_later(),
        redirect_uri="https://client.example/cb", scope="read",
    )  # fmt: skip
    return {"accesstoken": access, "refreshtoken": refresh, "grant": grant, "idtoken": id_token}


def _headings(page: str) -> list[str]:
    cells = re.findall(r'<th scope="col" class="[^"]*column-(\w+)[^"]*">(.*?)</th>', page, re.S)
    return [re.sub(r"<[^>]+>|\s+", "", html) for name, html in cells if name != "action"]


@pytest.mark.parametrize(
    ("model", "headings"),
    [
        ("application", ["ID", "名称", "用户", "客户端类型", "授权类型", "注册方式"]),
        ("accesstoken", ["ID", "令牌（已脱敏）", "用户", "应用", "过期时间"]),
        ("refreshtoken", ["ID", "令牌（已脱敏）", "用户", "应用"]),
        ("grant", ["ID", "授权码（已脱敏）", "应用", "用户", "过期时间"]),
        ("idtoken", ["JWT令牌ID", "用户", "应用", "过期时间"]),
    ],
)
def test_every_column_has_a_translatable_heading(client, tokens, model, headings):
    # "Pk", "Token" and "Code" were not translatable at all.
    page = client.get(reverse(f"admin:oauth2_provider_{model}_changelist"), **ZH)
    assert _headings(page.content.decode()) == headings


@pytest.mark.parametrize("model_admin", [GovDataAccessTokenAdmin, GovDataRefreshTokenAdmin])
def test_the_revoke_actions_are_named_through_the_catalogue(model_admin):
    assert isinstance(model_admin.revoke_tokens.short_description, Promise)


def test_the_token_admins_registered_are_ours():
    assert isinstance(admin.site._registry[AccessToken], GovDataAccessTokenAdmin)
    assert isinstance(admin.site._registry[RefreshToken], GovDataRefreshTokenAdmin)


@pytest.mark.parametrize(
    ("model", "title"),
    [
        ("accesstoken", "访问令牌"),
        ("refreshtoken", "刷新令牌"),
        ("grant", "授权码"),
        ("idtoken", "ID 令牌"),
    ],
)
def test_a_token_or_code_is_titled_by_its_translated_model_name_and_id(
    client, tokens, model, title
):
    obj = tokens[model]
    title = f"{title} #{obj.pk}"
    change = client.get(reverse(f"admin:oauth2_provider_{model}_change", args=[obj.pk]), **ZH)
    history = client.get(reverse(f"admin:oauth2_provider_{model}_history", args=[obj.pk]), **ZH)
    page = change.content.decode()
    assert f"<title>{title} | " in page and f"<h2>{title}</h2>" in page
    assert f"\n&rsaquo; {title}\n</div>" in page  # the breadcrumbs
    assert f"<h1>变更历史： {title}</h1>" in history.content.decode()
    for english in ("AccessToken #", "RefreshToken #", "Grant #", "JTI:"):
        assert english not in page


def test_the_tokens_a_token_links_to_are_named_alike(client, tokens):
    access, refresh = tokens["accesstoken"], tokens["refreshtoken"]
    id_token = tokens["idtoken"]
    page = client.get(
        reverse("admin:oauth2_provider_refreshtoken_change", args=[refresh.pk]), **ZH
    ).content.decode()
    assert f'/accesstoken/{access.pk}/change/">访问令牌 #{access.pk}</a>' in page  # raw id box
    page = client.get(
        reverse("admin:oauth2_provider_accesstoken_change", args=[access.pk]), **ZH
    ).content.decode()
    assert f'<option value="{id_token.pk}" selected>ID 令牌 #{id_token.pk}</option>' in page


def test_the_masked_token_is_labelled_and_the_token_still_hidden(client, tokens):
    access = tokens["accesstoken"]
    page = client.get(
        reverse("admin:oauth2_provider_accesstoken_change", args=[access.pk])
    ).content.decode()
    assert "<label>Token (masked):</label>" in page
    assert access.token not in page and "…xxxx" in page


def test_revoking_selected_access_tokens_still_revokes_them(client, tokens):
    access = tokens["accesstoken"]
    response = client.post(
        reverse("admin:oauth2_provider_accesstoken_changelist"),
        {"action": "revoke_tokens", "_selected_action": [access.pk]},
    )
    assert response.status_code == 302
    assert not AccessToken.objects.filter(pk=access.pk).exists()
    assert RefreshToken.objects.get(pk=tokens["refreshtoken"].pk).revoked is not None


def test_the_agency_applications_page_is_untouched(client, root, app):
    page = client.get(reverse("admin:api_agencyapplication_changelist"))
    assert page.status_code == 200 and "人口核验系统" in page.content.decode()
