"""Steps of apps.audit's migrations that the migrate run of the test database does not take."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection

DROP = importlib.import_module("apps.audit.migrations.0007_drop_field_purpose_indexes")


def _search_indexes() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'audit_event'"
            " AND indexname = ANY(%s)",
            [list(DROP.INDEXES)],
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)  # CREATE INDEX CONCURRENTLY runs outside one
def test_going_back_before_0007_builds_0006s_indexes_again_and_0007_drops_them():
    editor = SimpleNamespace(connection=connection)
    [operation] = DROP.Migration.operations
    assert _search_indexes() == set()
    try:
        operation.reverse_code(django_apps, editor)
        assert _search_indexes() == set(DROP.INDEXES)
    finally:
        operation.code(django_apps, editor)
    assert _search_indexes() == set()


REFUSE = importlib.import_module("apps.audit.migrations.0008_refuse_changes_without_escape")


def _refusing_triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgname FROM pg_trigger WHERE tgname LIKE 'audit\\_%%refuse\\_%%'"
            " AND tgrelid::regclass::text NOT LIKE 'audit\\_event\\_%%'"
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_going_back_before_0008_drops_its_triggers_and_0008_makes_them_again():
    made = _refusing_triggers()
    assert len(made) == 8
    with connection.cursor() as cursor:
        cursor.execute(REFUSE.BACKWARD)
        assert _refusing_triggers() == set()
        cursor.execute(REFUSE.FORWARD)
    assert _refusing_triggers() == made
