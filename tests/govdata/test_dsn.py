"""A SQL source's URL as its client library reads it, and the connection parameters built from
it: the worker connects with what was checked and takes nothing from its own environment."""

from __future__ import annotations

import psycopg2
import pytest

from govdata.connectors.base import SourceFormatError
from govdata.connectors.dsn import (
    NO_PASSFILE,
    mysql_connect_params,
    parse_database_url,
    postgres_connect_params,
)


@pytest.mark.parametrize(
    ("url", "host", "port", "database"),
    [
        ("postgresql://u@db.example:6543/hr", "db.example", 6543, "hr"),
        ("postgresql://u@db.example/x?dbname=gov%64ata", "db.example", 5432, "govdata"),
        ("postgres://u@db.example/%E4%BA%BA%E5%8F%A3", "db.example", 5432, "人口"),
        ("postgresql://u@[2001:db8::1]/hr", "2001:db8::1", 5432, "hr"),
        ("postgresql://hr_reader@db.example", "db.example", 5432, "hr_reader"),
        ("mysql://root@db.example/gov%64ata", "db.example", 3306, "govdata"),
        ("mariadb+pymysql://root@db.example:3307/hr", "db.example", 3307, "hr"),
    ],
)
def test_the_url_is_read_as_the_client_library_reads_it(url, host, port, database):
    target = parse_database_url(url)
    assert (target.host, target.port, target.database) == (host, port, database)


def test_postgres_parameters_leave_nothing_to_the_workers_environment():
    target = parse_database_url("postgresql://reader@10.1.2.3/hr?sslmode=require")
    params = postgres_connect_params(target.pinned(("10.1.2.3",)))
    assert params["password"] == ""  # an empty password, else libpq takes PGPASSWORD
    assert params["passfile"] == NO_PASSFILE  # else ~/.pgpass
    assert (params["host"], params["hostaddr"], params["port"]) == ("10.1.2.3", "10.1.2.3", 5432)
    assert (params["dbname"], params["user"], params["sslmode"]) == ("hr", "reader", "require")


def test_a_name_resolving_to_several_addresses_is_pinned_to_each_of_them(monkeypatch):
    from django.db import connection

    db = connection.settings_dict
    monkeypatch.setenv("PGPASSWORD", "the-workers-own")
    target = parse_database_url(
        f"postgresql://{db['USER']}@localhost:{db['PORT'] or 5432}/postgres"
    )
    params = postgres_connect_params(target.pinned(("::1", "127.0.0.1")))
    assert (params["host"], params["hostaddr"]) == ("localhost,localhost", "::1,127.0.0.1")
    conn = psycopg2.connect(**params)  # libpq takes the list and tries each in turn
    try:
        assert conn.info.password == ""  # not PGPASSWORD
    finally:
        conn.close()


def test_mysql_parameters_go_to_the_checked_address():
    target = parse_database_url("mysql://app:p%40ss@db.example/hr").pinned(("10.9.8.7",))
    assert mysql_connect_params(target) == {
        "host": "10.9.8.7",
        "port": 3306,
        "user": "app",
        "password": "p@ss",
        "database": "hr",
    }


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@db.example:99999/hr",
        "postgresql://u@db.example:0/hr",
        "mysql://root@db.example:x/hr",
    ],
)
def test_an_invalid_port_is_refused(url):
    with pytest.raises(SourceFormatError, match="invalid port"):
        parse_database_url(url)


def test_errors_keep_their_message_id_and_parameters_for_the_platform():
    with pytest.raises(SourceFormatError) as caught:
        parse_database_url("postgresql://u@db.example/x?service=platform")
    assert caught.value.msgid.startswith("The database URL sets %(params)s")
    assert caught.value.params["params"] == "service"
