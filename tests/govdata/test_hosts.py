"""The host policy of database and HTTP sources."""

from __future__ import annotations

import pytest

from govdata.connectors.base import SourceFormatError
from govdata.connectors.dsn import parse_database_url
from govdata.connectors.hosts import Endpoint, HostPolicy

OWN_DB = Endpoint("127.0.0.1", 5432, "govdata")


def test_without_a_list_any_host_but_the_platforms_own_database_is_allowed():
    policy = HostPolicy(refused=(OWN_DB,))
    policy.check("postgresql://u:p@10.1.2.3:5432/hr")
    policy.check("postgresql://u@127.0.0.1:5432/other_database")
    policy.check("https://api.example.org/people")
    with pytest.raises(SourceFormatError, match="own database"):
        policy.check("postgresql://postgres@127.0.0.1:5432/govdata")
    with pytest.raises(SourceFormatError, match="own database"):
        policy.check("postgres://postgres@localhost/govdata")  # another name, the same place


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("postgresql://u@10.20.3.4/db", True),
        ("mysql://u@10.21.0.1/db", False),
        ("https://hr.gov.example/api", True),
        ("https://gov.example.evil.org/api", False),
        ("http://127.0.0.1:8000/x", False),
        ("https://[::1]/x", False),
    ],
)
def test_with_a_list_only_its_networks_and_names_are_allowed(url, allowed):
    policy = HostPolicy(allowed=("10.20.0.0/16", ".gov.example"))
    if allowed:
        policy.check(url)
    else:
        with pytest.raises(SourceFormatError, match="GOVDATA_SYNC_SOURCE_HOSTS"):
            policy.check(url)


@pytest.mark.parametrize("url", ["postgresql://u@/db", "mysql://root@/test", "http://:80/"])
def test_an_address_without_a_host_is_refused(url):
    with pytest.raises(SourceFormatError, match="names no host"):
        HostPolicy().check(url)


def test_an_invalid_port_is_refused():
    with pytest.raises(SourceFormatError, match="invalid port"):
        HostPolicy().check("http://example.org:99999/")


@pytest.mark.parametrize(
    "url",
    [
        # libpq reads query parameters after the path and decodes %xx: each names govdata.
        "postgresql://postgres@127.0.0.1:5432/scratch?dbname=govdata",
        "postgresql://postgres@127.0.0.1:5432/gov%64ata",
        "postgresql+psycopg2://postgres@127.0.0.1:5432/scratch?dbname=gov%64ata",
        "postgresql://govdata@127.0.0.1:5432",  # no database: libpq takes the user's name
        # Other addresses of the same machine.
        "postgresql://postgres@127.0.0.2:5432/govdata",
        "postgresql://postgres@0.0.0.0:5432/govdata",
        "postgresql://postgres@[::ffff:127.0.0.1]:5432/govdata",
    ],
)
def test_the_platforms_own_database_is_refused_however_the_url_names_it(url):
    with pytest.raises(SourceFormatError, match="own database"):
        HostPolicy(refused=(OWN_DB,)).check(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://postgres@127.0.0.1/x?host=/var/run/postgresql&dbname=govdata", "socket"),
        ("postgresql://postgres@%2Fvar%2Frun%2Fpostgresql/govdata", "socket"),
        ("postgresql://postgres@127.0.0.1/x?host=@abstract", "socket"),
        ("postgresql://postgres@10.1.2.3/x?hostaddr=127.0.0.1", "hostaddr"),
        ("postgresql://postgres@10.1.2.3,127.0.0.1/govdata", "more than one host"),
        ("postgresql://postgres@10.1.2.3/x?service=platform", "service"),
        ("postgresql://postgres@10.1.2.3/x?servicefile=/etc/pg_service.conf", "servicefile"),
        ("postgresql://postgres@10.1.2.3/x?passfile=/root/.pgpass", "passfile"),
        ("postgresql://postgres@10.1.2.3/x?sslkey=/etc/ssl/private/key.pem", "sslkey"),
        ("postgresql://postgres@10.1.2.3/x?options=-c%20search_path%3Dx", "options"),
        ("postgresql://10.1.2.3/x", "no user"),
        ("mysql://root@10.1.2.3/x?unix_socket=/run/mysqld/mysqld.sock", "unix_socket"),
        ("mysql://root@10.1.2.3/x?read_default_file=/root/.my.cnf", "read_default_file"),
    ],
)
def test_a_database_url_may_not_lead_elsewhere_than_the_host_it_names(url, message):
    with pytest.raises(SourceFormatError, match=message):
        HostPolicy(refused=(OWN_DB,)).check(url)


def test_a_checked_database_is_pinned_to_the_addresses_checked():
    policy = HostPolicy(refused=(OWN_DB,))
    target = policy.check_database(parse_database_url("postgresql://u@localhost:5432/hr"))
    assert target.addresses and {"127.0.0.1", "::1"} >= set(target.addresses)
    assert target.database == "hr"
