"""Data steps of apps.sync's migrations, on runs stored before them."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection

from apps.common import clock
from apps.sync.models import SyncRejection, SyncRun
from apps.sync.services import sync_config_set
from govdata.crypto import secrets_decrypt

pytestmark = pytest.mark.django_db

ERRORS_AND_KEPT = importlib.import_module("apps.sync.migrations.0005_run_errors_cancel_retention")


def _run(config, status: str, error: str = "") -> SyncRun:
    return SyncRun.objects.create(
        dataset=config.dataset, config=config, status=status, trigger="manual", mode="full",
        kind=config.kind, error=error, created_at=clock.now(),
    )  # fmt: skip


def test_stored_duplicate_key_errors_lose_their_keys_and_keep_their_rows(world):
    config = sync_config_set(dataset=world.dataset, kind="csv")
    english = _run(
        config,
        "failed",
        "Duplicate keys in the source: key 440106199001010005 in rows 2, 22; key "
        "44010619900101003X in rows 5, 9. Nothing was published.",
    )
    chinese = _run(
        config,
        "failed",
        "数据源中有重复主键：主键 440106199001010005 位于第 2, 22 行。未发布任何数据。",
    )
    other = _run(config, "failed", "数据源查询失败：key 1 in rows 2")
    ERRORS_AND_KEPT.forward(django_apps, SimpleNamespace(connection=connection))
    english.refresh_from_db()
    chinese.refresh_from_db()
    assert english.error == (
        "Duplicate keys in the source: rows 2, 22; rows 5, 9. Nothing was published."
    )
    assert chinese.error == "数据源中有重复主键：第 2, 22 行。未发布任何数据。"
    assert SyncRun.objects.get(pk=other.pk).error == "数据源查询失败：key 1 in rows 2"


def test_active_runs_take_their_configurations_credentials_and_reports_are_counted(world):
    config = sync_config_set(
        dataset=world.dataset, kind="sql", options={"table": "t"}, secrets={"url": "mysql://u@h/d"}
    )
    waiting = _run(config, "retrying")
    SyncRun.objects.filter(pk=waiting.pk).update(secrets_encrypted="")
    done = _run(config, "succeeded")
    for row, field in [(2, "mobile"), (2, "name"), (5, "mobile")]:
        SyncRejection.objects.create(run=done, row_number=row, field=field, reason="x")
    ERRORS_AND_KEPT.forward(django_apps, SimpleNamespace(connection=connection))
    assert secrets_decrypt(SyncRun.objects.get(pk=waiting.pk).secrets_encrypted) == {
        "url": "mysql://u@h/d"
    }
    assert SyncRun.objects.get(pk=done.pk).secrets_encrypted == ""
    assert SyncRun.objects.get(pk=done.pk).rejections_listed == 2
