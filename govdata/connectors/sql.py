"""Relational sources: PostgreSQL and MySQL/MariaDB, read with a server-side cursor so that a
table of any size streams in constant memory."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext_noop

from govdata.connectors.base import (
    Connector,
    SourceData,
    SourceError,
    SourceFormatError,
    register,
)
from govdata.connectors.dsn import (
    CONNECT_TIMEOUT,
    DatabaseTarget,
    mysql_connect_params,
    parse_database_url,
    postgres_connect_params,
)

FETCH = 5000
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")
# MySQL error codes pymysql raises as OperationalError although the statement, not the
# connection, is at fault: retrying cannot help. 1792: a write in a read-only transaction.
_MYSQL_STATEMENT_ERRORS = frozenset({1792})


def _cannot_connect(exc: Exception | str) -> SourceError:
    return SourceError(
        gettext_noop("Cannot connect to the source database: %(e)s"), {"e": str(exc).strip()}
    )


def _query_failed(exc: Exception) -> SourceFormatError:
    return SourceFormatError(
        gettext_noop("The source query failed: %(e)s"), {"e": str(exc).strip()}
    )


def _quote(name: str, quote: str) -> str:
    if not _NAME_RE.match(name):
        raise SourceFormatError(
            gettext_noop("“%(name)s” is not a valid table or column name."), {"name": name}
        )
    return ".".join(f"{quote}{part}{quote}" for part in name.split("."))


def build_query(
    options: dict[str, Any], quote: str, watermark: str | None, since: str | None
) -> tuple[str, list[Any] | None]:
    """The SELECT to run, and its parameters (None when it has none: the drivers then leave
    a `%` of the query alone, as in LIKE 'x%'). A custom query is wrapped, never rewritten
    (only its `%` doubled when it is wrapped with a parameter, the drivers' escape).

    An incremental read takes the rows whose watermark is at or after the last one seen
    (`>=`), not only after it: rows written later with the same value as the last row read
    (the same instant, or the same day in a date column) would otherwise never be read. The
    rows at the boundary are read again; the upsert by key leaves them as they are."""
    if options.get("query"):
        base = options["query"].strip().rstrip(";")
    elif options.get("table"):
        base = f"SELECT * FROM {_quote(options['table'], quote)}"
    else:
        raise SourceFormatError(gettext_noop("A SQL source needs a table or a query."), {})
    if watermark and since is not None:
        column = _quote(watermark, quote)
        # The custom query's own `%` must not be read as a parameter marker here.
        base = base.replace("%", "%%")
        return f"SELECT * FROM ({base}) src WHERE src.{column} >= %s ORDER BY src.{column}", [since]
    return base, None


@register
class SqlConnector(Connector):
    """options: table or query; secrets: url (postgresql://... or mysql://...)."""

    kind = "sql"
    incremental_native = True

    @contextmanager
    def open(self, *, watermark_column=None, since=None) -> Iterator[SourceData]:
        url = self.secrets.get("url") or self.options.get("url")
        if not url:
            raise SourceFormatError(gettext_noop("A SQL source needs a connection URL."), {})
        target = parse_database_url(url)
        if self.host_policy is not None:
            # Connect to what the policy checked: the parsed parameters, pinned to the
            # addresses the host resolved to when checked; never the URL itself.
            target = self.host_policy.check_database(target)
            if not target.addresses:
                raise _cannot_connect(f"the host name {target.host} cannot be resolved")
        opener = _open_postgres if target.engine == "postgresql" else _open_mysql
        with opener(target, self.options, watermark_column, since) as data:
            yield data


@contextmanager
def _open_postgres(target: DatabaseTarget, options, watermark, since):
    import psycopg2

    query, params = build_query(options, '"', watermark, since)
    try:
        conn = psycopg2.connect(**postgres_connect_params(target))
    except psycopg2.OperationalError as exc:
        raise _cannot_connect(exc) from None
    try:
        conn.set_session(readonly=True)
        _refuse_privileged_account(conn)
        cursor = conn.cursor(name="govdata_sync")  # a named cursor is server-side in psycopg2
        cursor.itersize = FETCH
        try:
            cursor.execute(query, params)
            first = cursor.fetchmany(FETCH)
        except psycopg2.OperationalError as exc:
            raise SourceError(str(exc)) from None
        except psycopg2.Error as exc:
            raise _query_failed(exc) from None
        columns = [d[0] for d in cursor.description]
        yield SourceData(columns=columns, rows=_stream(first, cursor, psycopg2.OperationalError))
    finally:
        conn.close()


# A source account that may read more than the tables it is given: a superuser, or a member of
# the roles that read the server's files or every table. Checked by role OID, so that servers
# older than a role (pg_read_all_data is PostgreSQL 14) are asked only about those they have.
_PRIVILEGED_ACCOUNT = (
    "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)"
    " OR coalesce((SELECT bool_or(pg_has_role(current_user, oid, 'MEMBER')) FROM pg_roles"
    " WHERE rolname IN ('pg_read_server_files', 'pg_write_server_files',"
    " 'pg_execute_server_program', 'pg_read_all_data')), false)"
)


def _refuse_privileged_account(conn) -> None:
    """A source is read with an account that may read its tables and nothing more. With a
    superuser's account, the query an officer writes could read any database of that server,
    the server's files (pg_read_file), and the platform's own data when the server is the
    platform's: refusing the database name alone does not stop that."""
    with conn.cursor() as cursor:
        cursor.execute(_PRIVILEGED_ACCOUNT)
        user, privileged = cursor.fetchone()
    conn.rollback()
    if privileged:
        raise SourceFormatError(
            gettext_noop(
                "The source account %(user)s is a superuser or may read the server's files or "
                "every table: give the platform an account that may only read the source's "
                "tables."
            ),
            {"user": user},
        )


@contextmanager
def _open_mysql(target: DatabaseTarget, options, watermark, since):
    import pymysql
    import pymysql.cursors

    query, params = build_query(options, "`", watermark, since)
    try:
        conn = pymysql.connect(
            **mysql_connect_params(target),
            charset="utf8mb4",
            connect_timeout=CONNECT_TIMEOUT,
            cursorclass=pymysql.cursors.SSCursor,  # unbuffered: rows stream from the server
        )
    except pymysql.err.OperationalError as exc:
        raise _cannot_connect(exc) from None
    try:
        cursor = conn.cursor()
        try:
            # Read-only, as PostgreSQL sources are. The session's characteristic, not only the
            # transaction's: MySQL commits before a DDL statement (DROP, CREATE...) and runs it
            # outside the transaction, where START TRANSACTION READ ONLY no longer applies.
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            cursor.execute("START TRANSACTION READ ONLY")
            cursor.execute(query, params)
            first = cursor.fetchmany(FETCH)
        except pymysql.err.OperationalError as exc:
            if exc.args and exc.args[0] in _MYSQL_STATEMENT_ERRORS:
                raise _query_failed(exc) from None
            raise SourceError(str(exc)) from None
        except pymysql.err.MySQLError as exc:
            raise _query_failed(exc) from None
        columns = [d[0] for d in cursor.description]
        yield SourceData(columns=columns, rows=_stream(first, cursor, pymysql.err.OperationalError))
    finally:
        conn.close()


def _stream(first, cursor, transient):
    number = 0
    batch = first
    try:
        while batch:
            for row in batch:
                number += 1
                yield number, row
            batch = cursor.fetchmany(FETCH)
    except transient as exc:
        raise SourceError(str(exc)) from None
