"""The database a SQL source's URL points at, read the way its client library reads it.

The host policy (hosts.py) must judge the place the worker will connect to, not the place the
URL seems to name: libpq decodes %xx, lets query parameters override the host, port and
database (`?host=/var/run/postgresql&dbname=govdata`), reads a service file or a password file
named in the URL, and takes whatever the URL leaves out from the worker's environment
(PGHOST, PGDATABASE, PGPASSWORD, ~/.pgpass). So the URL is parsed by libpq's own parser, only
the parameters listed here are accepted, every one that matters is made explicit, and the
connection is opened from these very parameters (`postgres_connect_params`,
`mysql_connect_params`), never from the URL.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field, replace

from django.utils.translation import gettext_noop

from govdata.connectors.base import SourceFormatError

POSTGRES_SCHEMES = frozenset({"postgres", "postgresql"})
MYSQL_SCHEMES = frozenset({"mysql", "mariadb"})
# What a department's URL may set besides the place and the account. Everything else is
# refused: a file on the worker (passfile, service, servicefile, sslkey, sslrootcert...),
# another address (hostaddr), server options, a connect_timeout of 0 (wait forever, holding the
# dataset's lock).
POSTGRES_EXTRA = frozenset({"sslmode", "application_name", "channel_binding"})
MYSQL_EXTRA: frozenset[str] = frozenset()
CONNECT_TIMEOUT = 10
# libpq reads ~/.pgpass when a URL gives no password: the worker's own passwords must never be
# sent to a host an officer named. A path that cannot exist turns that off without a warning.
NO_PASSFILE = "/nonexistent/govdata-no-passfile"


@dataclass(frozen=True)
class DatabaseTarget:
    """Where a SQL source connects: what the host policy checks and the connector uses."""

    engine: str  # "postgresql" or "mysql"
    host: str
    port: int
    database: str
    user: str
    password: str
    extra: dict[str, str] = field(default_factory=dict)
    # The addresses the host policy resolved the host to and checked: the connection goes to
    # these and nowhere else (a name resolving elsewhere a moment later changes nothing).
    addresses: tuple[str, ...] = ()

    def pinned(self, addresses: tuple[str, ...]) -> DatabaseTarget:
        return replace(self, addresses=addresses)


def is_database_url(url: str) -> bool:
    return _scheme(url) in POSTGRES_SCHEMES | MYSQL_SCHEMES


def _scheme(url: str) -> str:
    return urllib.parse.urlsplit(url).scheme.split("+")[0].lower()


def parse_database_url(url: str) -> DatabaseTarget:
    """The target of a postgresql:// or mysql:// URL; SourceFormatError if the URL sets what a
    source may not, or leaves out what the worker would fill in from its own environment."""
    scheme = _scheme(url)
    if scheme in POSTGRES_SCHEMES:
        return _parse_postgres(url)
    if scheme in MYSQL_SCHEMES:
        return _parse_mysql(url)
    raise SourceFormatError(gettext_noop("Unsupported database “%(scheme)s”."), {"scheme": scheme})


def _parse_postgres(url: str) -> DatabaseTarget:
    from psycopg2 import ProgrammingError
    from psycopg2.extensions import parse_dsn

    # libpq knows postgresql:// and postgres:// only (SQLAlchemy adds "+psycopg2").
    rest = url.split(":", 1)[1] if ":" in url else ""
    try:
        params = parse_dsn("postgresql:" + rest)
    except ProgrammingError as exc:
        raise SourceFormatError(
            gettext_noop("The database URL cannot be read: %(error)s"),
            {"error": str(exc).strip()},
        ) from None
    _refuse_unknown(params, {"host", "port", "dbname", "user", "password"} | POSTGRES_EXTRA)
    host = params.get("host", "")
    _check_host(host)
    user = params.get("user", "")
    if not user:
        # libpq would log in as the worker's own user (and use it as the database name).
        raise SourceFormatError(gettext_noop("The database URL names no user."), {})
    return DatabaseTarget(
        engine="postgresql",
        host=host,
        port=_port(params.get("port"), 5432),
        database=params.get("dbname") or user,  # libpq's default: the user's name
        user=user,
        password=params.get("password", ""),
        extra={k: v for k, v in params.items() if k in POSTGRES_EXTRA},
    )


def _parse_mysql(url: str) -> DatabaseTarget:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    # pymysql is given the host, port, account and database only, but a URL parameter
    # (unix_socket, read_default_file, ...) must not look as if it were used.
    _refuse_unknown(dict(query), MYSQL_EXTRA)
    host = urllib.parse.unquote(parts.hostname or "")
    _check_host(host)
    try:
        port = parts.port
    except ValueError:
        port = -1  # an invalid port, reported as such below
    return DatabaseTarget(
        engine="mysql",
        host=host,
        port=_port(port, 3306),
        database=urllib.parse.unquote(parts.path.lstrip("/")),
        user=urllib.parse.unquote(parts.username or "root"),
        password=urllib.parse.unquote(parts.password or ""),
    )


def _refuse_unknown(params: dict[str, str], allowed: frozenset[str] | set[str]) -> None:
    unknown = sorted(set(params) - set(allowed))
    if not unknown:
        return
    settable = sorted(set(allowed) - {"host", "port", "dbname", "user", "password"})
    if settable:
        raise SourceFormatError(
            gettext_noop(
                "The database URL sets %(params)s, which a source's URL may not set (besides "
                "the host, port, database, user and password, it may set only %(allowed)s)."
            ),
            {"params": ", ".join(unknown), "allowed": ", ".join(settable)},
        )
    raise SourceFormatError(
        gettext_noop(
            "The database URL sets %(params)s, which a source's URL may not set (it may set "
            "only the host, port, database, user and password)."
        ),
        {"params": ", ".join(unknown)},
    )


def _check_host(host: str) -> None:
    if not host:
        raise SourceFormatError(gettext_noop("The source address names no host."), {})
    if "," in host:
        # libpq tries each host of a list in turn: each would have to be checked and pinned.
        raise SourceFormatError(
            gettext_noop("The database URL names more than one host (%(host)s); give one."),
            {"host": host},
        )
    if host.startswith(("/", "@")):
        # A local socket (a directory, or Linux's abstract namespace) reaches the worker's own
        # machine, where no network rule applies.
        raise SourceFormatError(
            gettext_noop(
                "A source database must be reached over the network, not through a local "
                "socket (%(host)s)."
            ),
            {"host": host},
        )


def _port(value: str | int | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = -1
    if not 0 < port < 65536:
        # "5432,5433" (a list of ports, one per host) lands here too.
        raise SourceFormatError(gettext_noop("The source address has an invalid port."), {})
    return port


def postgres_connect_params(target: DatabaseTarget) -> dict[str, str | int]:
    """psycopg2.connect() keywords. Everything libpq would otherwise take from the worker's
    environment is set: host, port, database, user, password (an empty one too: libpq would
    take PGPASSWORD) and the password file."""
    params: dict[str, str | int] = {
        "host": target.host,
        "port": target.port,
        "dbname": target.database,
        "user": target.user,
        "password": target.password,
        "passfile": NO_PASSFILE,
        "connect_timeout": CONNECT_TIMEOUT,
        **target.extra,
    }
    if target.addresses:
        # One host per checked address, the same name for each (used to verify its TLS
        # certificate), in the order the resolver gave them: libpq tries them in turn.
        params["host"] = ",".join([target.host] * len(target.addresses))
        params["hostaddr"] = ",".join(target.addresses)
    return params


def mysql_connect_params(target: DatabaseTarget) -> dict[str, str | int]:
    """pymysql.connect() keywords (no option file, no socket: pymysql reads neither unless
    told to)."""
    return {
        "host": target.addresses[0] if target.addresses else target.host,
        "port": target.port,
        "user": target.user,
        "password": target.password,
        "database": target.database,
    }
