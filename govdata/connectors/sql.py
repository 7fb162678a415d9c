"""Relational sources: PostgreSQL and MySQL/MariaDB, read with a server-side cursor so that a
table of any size streams in constant memory."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.utils.translation import gettext as _

from govdata.connectors.base import (
    Connector,
    SourceData,
    SourceError,
    SourceFormatError,
    register,
)

FETCH = 5000
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$")


def _quote(name: str, quote: str) -> str:
    if not _NAME_RE.match(name):
        raise SourceFormatError(
            _("“%(name)s” is not a valid table or column name.") % {"name": name}
        )
    return ".".join(f"{quote}{part}{quote}" for part in name.split("."))


def build_query(options: dict[str, Any], quote: str, watermark: str | None, since: str | None):
    """The SELECT to run, and its parameters. A custom query is wrapped, never edited."""
    if options.get("query"):
        base = options["query"].strip().rstrip(";")
    elif options.get("table"):
        base = f"SELECT * FROM {_quote(options['table'], quote)}"
    else:
        raise SourceFormatError(_("A SQL source needs a table or a query."))
    if watermark and since is not None:
        column = _quote(watermark, quote)
        return f"SELECT * FROM ({base}) src WHERE src.{column} > %s ORDER BY src.{column}", [since]
    return base, []


@register
class SqlConnector(Connector):
    """options: table or query; secrets: url (postgresql://... or mysql://...)."""

    kind = "sql"
    incremental_native = True

    @contextmanager
    def open(self, *, watermark_column=None, since=None) -> Iterator[SourceData]:
        url = self.secrets.get("url") or self.options.get("url")
        if not url:
            raise SourceFormatError(_("A SQL source needs a connection URL."))
        scheme = urllib.parse.urlsplit(url).scheme.split("+")[0]
        if scheme in {"postgres", "postgresql"}:
            opener = _open_postgres
        elif scheme in {"mysql", "mariadb"}:
            opener = _open_mysql
        else:
            raise SourceFormatError(_("Unsupported database “%(scheme)s”.") % {"scheme": scheme})
        self.check_host(url)
        with opener(url, self.options, watermark_column, since) as data:
            yield data


@contextmanager
def _open_postgres(url, options, watermark, since):
    import psycopg2

    query, params = build_query(options, '"', watermark, since)
    try:
        conn = psycopg2.connect(
            url.replace("postgresql+psycopg2", "postgresql"), connect_timeout=10
        )
    except psycopg2.OperationalError as exc:
        raise SourceError(_("Cannot connect to the source database: %(e)s") % {"e": exc}) from None
    try:
        conn.set_session(readonly=True)
        cursor = conn.cursor(name="govdata_sync")  # a named cursor is server-side in psycopg2
        cursor.itersize = FETCH
        try:
            cursor.execute(query, params)
            first = cursor.fetchmany(FETCH)
        except psycopg2.OperationalError as exc:
            raise SourceError(str(exc)) from None
        except psycopg2.Error as exc:
            raise SourceFormatError(_("The source query failed: %(e)s") % {"e": exc}) from None
        columns = [d[0] for d in cursor.description]
        yield SourceData(columns=columns, rows=_stream(first, cursor, psycopg2.OperationalError))
    finally:
        conn.close()


@contextmanager
def _open_mysql(url, options, watermark, since):
    import pymysql
    import pymysql.cursors

    parts = urllib.parse.urlsplit(url)
    query, params = build_query(options, "`", watermark, since)
    try:
        conn = pymysql.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 3306,
            user=urllib.parse.unquote(parts.username or "root"),
            password=urllib.parse.unquote(parts.password or ""),
            database=parts.path.lstrip("/"),
            charset="utf8mb4",
            connect_timeout=10,
            cursorclass=pymysql.cursors.SSCursor,  # unbuffered: rows stream from the server
        )
    except pymysql.err.OperationalError as exc:
        raise SourceError(_("Cannot connect to the source database: %(e)s") % {"e": exc}) from None
    try:
        cursor = conn.cursor()
        try:
            cursor.execute(query, params or None)
            first = cursor.fetchmany(FETCH)
        except pymysql.err.OperationalError as exc:
            raise SourceError(str(exc)) from None
        except pymysql.err.MySQLError as exc:
            raise SourceFormatError(_("The source query failed: %(e)s") % {"e": exc}) from None
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
