"""Third-party apps in the admin carry our names, in the user's language."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.utils import translation


@pytest.mark.parametrize(
    ("label", "model", "app_name", "model_name"),
    [
        ("axes", "AccessAttempt", "登录锁定", "登录失败记录"),
        ("oauth2_provider", "AccessToken", "OAuth2 客户端与令牌", "访问令牌"),
        ("otp_totp", "TOTPDevice", "一次性验证码", "身份验证器应用"),
    ],
)
def test_third_party_apps_and_models_are_named_in_chinese(label, model, app_name, model_name):
    with translation.override("zh-hans"):
        assert str(apps.get_app_config(label).verbose_name) == app_name
        assert str(apps.get_model(label, model)._meta.verbose_name_plural) == model_name


def test_the_platform_admins_index_has_no_english_third_party_sections(db, client):
    from tests.factories import UserFactory

    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for english in ("Django OAuth Toolkit", "Axes", "TOTP devices", "Access attempts"):
        assert english not in page
    assert "登录锁定" in page
