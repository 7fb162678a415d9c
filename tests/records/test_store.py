"""Staging tables: an incremental run's is unlogged (it is only read from), a full run's is
logged (it becomes the live table)."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.records.store import drop_table, staging_create


def _persistence(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpersistence FROM pg_class WHERE oid = %s::regclass", [table])
        return cursor.fetchone()[0]


@pytest.mark.django_db
@pytest.mark.parametrize(("unlogged", "expected"), [(True, "u"), (False, "p")])
def test_staging_is_unlogged_only_when_asked(world, unlogged, expected):
    fields = list(world.dataset.fields.all())
    with connection.cursor() as cursor:
        staging_create(cursor, "test_staging", fields, world.dataset.key_field, unlogged=unlogged)
    assert _persistence('records."test_staging"') == expected
    with connection.cursor() as cursor:
        drop_table(cursor, "test_staging")
