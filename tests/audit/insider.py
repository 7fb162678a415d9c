"""Helpers that act as an insider with superuser rights, bypassing the append-only triggers."""

from __future__ import annotations

from contextlib import contextmanager

from django.db import connection


@contextmanager
def triggers_bypassed():
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            yield cursor
        finally:
            cursor.execute("SET session_replication_role = origin")


def insider_sql(sql: str, params=None) -> None:
    with triggers_bypassed() as cursor:
        cursor.execute(sql, params)
