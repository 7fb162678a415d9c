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


SEARCH = importlib.import_module("apps.audit.migrations.0008_search_columns_by_trigger")


def _generated_search_columns() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = 'audit_event'::regclass"
            " AND attgenerated = 's' AND NOT attisdropped"
        )
        return {row[0] for row in cursor.fetchall()}


def _index_names() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'audit_event'")
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_going_back_before_0008_generates_the_search_columns_again_with_their_indexes():
    from apps.audit.chain import chain_append
    from apps.audit.models import AuditEvent

    indexes = _index_names()
    assert _generated_search_columns() == set()
    with connection.cursor() as cursor:
        cursor.execute(SEARCH.BACKWARD)
    assert _generated_search_columns() == set(SEARCH.SEARCH_COLUMNS)
    assert _index_names() == indexes
    before = chain_append({"kind": "access", "action": "lookup", "consumer_id": 3})
    with connection.cursor() as cursor:
        cursor.execute(SEARCH.FORWARD)
    assert _generated_search_columns() == set() and _index_names() == indexes
    after = chain_append({"kind": "access", "action": "export", "consumer_id": 5})
    stored = AuditEvent.objects.in_bulk([before.seq, after.seq])
    assert (stored[before.seq].action, stored[before.seq].consumer_id) == ("lookup", 3)
    assert (stored[after.seq].action, stored[after.seq].consumer_id) == ("export", 5)
