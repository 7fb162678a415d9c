"""Fixtures of the sync tests.

`flushable_db`: transactional tests end with a TRUNCATE of every table (Django's flush), which
the audit log's append-only triggers refuse. The flush runs with triggers off
(session_replication_role = replica), and the setting is reset by the post_migrate signal that
flush sends when it is done, so no later statement runs without triggers.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.signals import post_migrate


def _reset_role(**kwargs) -> None:
    post_migrate.disconnect(_reset_role, dispatch_uid="sync-tests-reset-role")
    with connection.cursor() as cursor:
        cursor.execute("RESET session_replication_role")


@pytest.fixture
def flushable_db(transactional_db):
    yield
    post_migrate.connect(_reset_role, dispatch_uid="sync-tests-reset-role", weak=False)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture(autouse=True)
def _english():
    """Messages are asserted in English; the platform's default language is Chinese."""
    from django.utils import translation

    with translation.override("en"):
        yield
