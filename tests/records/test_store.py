"""Staging tables: an incremental run's is unlogged (it is only read from), a full run's is
logged (it becomes the live table)."""

from __future__ import annotations

import pytest
from django.db import connection

from apps.records.store import (
    add_key_index,
    drop_table,
    ensure_schema,
    full_diff_counts,
    key_collations_convert,
    staging_create,
    staging_upsert,
    store_ensure_table,
)


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


def _table(cursor, name: str, rows: list[tuple]) -> None:
    cursor.execute(f'CREATE TABLE records."{name}" (k text NOT NULL, a text, n numeric)')
    cursor.executemany(f'INSERT INTO records."{name}" VALUES (%s, %s, %s)', rows)


@pytest.mark.django_db
def test_full_diff_counts_inserted_updated_and_removed_rows_null_safely():
    live = [("1", "x", 1), ("2", None, 2), ("3", "z", None), ("4", "w", 4), ("5", "v", 5)]
    # 1 same, 2 changed from NULL, 3 still NULL (same), 4 changed, 5 removed, 6 and 7 new
    staged = [("1", "x", 1), ("2", "y", 2), ("3", "z", None), ("4", "w", 40), ("6", "u", 6)]
    staged.append(("7", None, None))
    with connection.cursor() as cursor:
        ensure_schema(cursor)
        _table(cursor, "test_live", live)
        _table(cursor, "test_staged", staged)
        counts = full_diff_counts(
            cursor, "test_staged", "test_live", ["k", "a", "n"], "k", work_mem="8MB"
        )
        cursor.execute("SELECT current_setting('jit'), current_setting('work_mem')")
        settings = cursor.fetchone()
    assert counts == (2, 2, 1)
    assert settings == ("off", "8MB")  # for the rest of the run's transaction only


@pytest.mark.django_db
def test_full_diff_counts_a_decimal_change_of_scale_only_as_updated():
    live = [("1", "x", "1.0"), ("2", "y", "5"), ("3", "z", "2.50"), ("4", "w", None)]
    staged = [("1", "x", "1.00"), ("2", "y", "5.00"), ("3", "z", "2.5"), ("4", "w", None)]
    with connection.cursor() as cursor:
        ensure_schema(cursor)
        _table(cursor, "test_live", live)
        _table(cursor, "test_staged", staged)
        counts = full_diff_counts(cursor, "test_staged", "test_live", ["k", "a", "n"], "k")
    assert counts == (0, 3, 0)


@pytest.mark.django_db
def test_upsert_applies_a_decimal_change_of_scale_only_and_skips_unchanged_rows():
    live = [("1", "x", "1.0"), ("2", "y", "5"), ("3", "z", "2.50")]
    staged = [("1", "x", "1.00"), ("2", "y", "5"), ("3", "z", "2.50"), ("4", "w", "7.0")]
    with connection.cursor() as cursor:
        ensure_schema(cursor)
        _table(cursor, "test_live", live)
        add_key_index(cursor, "test_live", "k")
        _table(cursor, "test_staged", staged)
        counts = staging_upsert(cursor, "test_staged", "test_live", ["k", "a", "n"], "k")
        cursor.execute('SELECT k, n::text FROM records."test_live" ORDER BY k')
        stored = cursor.fetchall()
    assert counts == (1, 1)
    assert stored == [("1", "1.00"), ("2", "5"), ("3", "2.50"), ("4", "7.0")]


@pytest.mark.django_db
def test_a_text_key_compares_byte_by_byte_and_other_columns_keep_the_database_collation(world):
    fields = list(world.dataset.fields.all())
    key = world.dataset.key_field
    with connection.cursor() as cursor:
        staging_create(cursor, "test_collation", fields, key, unlogged=True)
        cursor.execute(
            "SELECT a.attname, c.collname FROM pg_attribute a LEFT JOIN pg_collation c"
            " ON c.oid = a.attcollation WHERE a.attrelid = 'records.test_collation'::regclass"
            " AND a.attnum > 0"
        )
        collations = dict(cursor.fetchall())
        drop_table(cursor, "test_collation")
    assert collations[key] == "C"
    assert {collations[f.name] for f in fields if f.name != key} <= {"default", None}


@pytest.mark.django_db
def test_live_tables_created_before_get_the_byte_wise_key_and_keep_rows_and_index(world):
    dataset, key = world.dataset, world.dataset.key_field
    table = store_ensure_table(dataset)
    with connection.cursor() as cursor:
        cursor.execute(f'ALTER TABLE records."{table}" ALTER COLUMN "{key}" TYPE text')
        cursor.execute(f'INSERT INTO records."{table}" ("{key}") VALUES (%s), (%s)', ["b", "B"])
        converted = key_collations_convert(cursor)
        again = key_collations_convert(cursor)
        cursor.execute(
            "SELECT c.collname FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation"
            f" WHERE a.attrelid = 'records.\"{table}\"'::regclass AND a.attname = %s",
            [key],
        )
        collation = cursor.fetchone()[0]
        cursor.execute(f'SELECT "{key}" FROM records."{table}" ORDER BY 1')
        keys = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"SELECT indisunique FROM pg_index WHERE indrelid = 'records.\"{table}\"'::regclass"
        )
        unique = [row[0] for row in cursor.fetchall()]
    assert (converted, again, collation) == ([table], [], "C")
    assert keys == ["B", "b"] and unique == [True]
