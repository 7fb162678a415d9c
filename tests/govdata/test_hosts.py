"""The host policy of database and HTTP sources."""

from __future__ import annotations

import pytest

from govdata.connectors.base import SourceFormatError
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


@pytest.mark.parametrize("url", ["postgresql:///db?host=/var/run/postgresql", "http://:80/"])
def test_an_address_without_a_host_is_refused(url):
    with pytest.raises(SourceFormatError, match="names no host"):
        HostPolicy().check(url)


def test_an_invalid_port_is_refused():
    with pytest.raises(SourceFormatError, match="invalid port"):
        HostPolicy().check("http://example.org:99999/")
