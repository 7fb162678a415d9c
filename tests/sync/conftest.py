"""Fixtures of the sync tests.

`pg_source`: a table in a PostgreSQL database of its own, standing in for a department's system.

`flushable_db`: transactional tests end with a TRUNCATE of every table (Django's flush), which
the audit log's append-only triggers refuse. The flush runs with triggers off
(session_replication_role = replica), and the setting is reset by the post_migrate signal that
flush sends when it is done, so no later statement runs without triggers.
"""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from django.db import connection
from django.db.models.signals import post_migrate

from tests.sync.helpers import COLUMNS


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


def _pg_params() -> dict:
    s = connection.settings_dict
    return {
        "host": s["HOST"] or "127.0.0.1",
        "port": s["PORT"] or 5432,
        "user": s["USER"],
        "password": s["PASSWORD"],
    }


@pytest.fixture
def pg_source():
    """A table in a separate PostgreSQL database standing in for the department's system."""
    params = _pg_params()
    name = f"sync_src_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(dbname="postgres", **params)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    src = psycopg2.connect(dbname=name, **params)
    src.autocommit = True
    src.cursor().execute(
        "CREATE TABLE people ("
        + ", ".join(f"{c} text" for c in COLUMNS)
        + ", updated_at timestamptz)"
    )
    # The platform reads a source with an account that may only read its tables (superusers
    # are refused: govdata.connectors.sql), as a department would give it.
    reader, secret = f"{name}_reader", uuid.uuid4().hex
    with src.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{reader}" LOGIN PASSWORD %s', [secret])
        cursor.execute(f'GRANT CONNECT ON DATABASE "{name}" TO "{reader}"')
        cursor.execute(f'GRANT USAGE ON SCHEMA public TO "{reader}"')
        cursor.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{reader}"')
        cursor.execute(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO "{reader}"'
        )
    url = f"postgresql://{reader}:{secret}@{params['host']}:{params['port']}/{name}"
    yield src, url
    src.close()
    admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.cursor().execute(f'DROP ROLE IF EXISTS "{reader}"')
    admin.close()
