"""Both catalogues ship compiled, and switching the language translates the interface."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation

from apps.departments.models import Department, Membership

LOCALE = Path(settings.BASE_DIR) / "locale"


def test_languages_are_simplified_chinese_by_default_and_english():
    from config.settings import base  # the test settings pin English for stable messages

    assert base.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]


@pytest.mark.parametrize("language", ["zh_Hans", "en"])
def test_both_catalogues_are_shipped_compiled(language):
    po = LOCALE / language / "LC_MESSAGES" / "django.po"
    mo = LOCALE / language / "LC_MESSAGES" / "django.mo"
    assert po.exists() and mo.exists()
    assert mo.stat().st_size > 0


def test_switching_to_zh_hans_translates_model_names_and_choices():
    with translation.override("zh-hans"):
        assert str(Department._meta.verbose_name) == "部门"
        assert str(Membership.Role.OFFICER.label) == "数据专员"
        assert str(Department.Level.DISTRICT.label) == "区县级"
    with translation.override("en"):
        assert str(Department._meta.verbose_name) == "department"
        assert str(Membership.Role.OFFICER.label) == "Data officer"


@pytest.mark.django_db
def test_the_admin_login_page_follows_the_chosen_language():
    client = Client()
    chinese = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "政务数据共享交换平台" in chinese.content.decode()
    english = client.get("/admin/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert "GovData Exchange administration" in english.content.decode()
