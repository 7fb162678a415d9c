"""Which hosts a database or HTTP source may reach.

A data officer types the source's address. Without a limit, the workers would connect wherever
that points: the platform's own database (and publish any of its tables as a dataset), or
services inside the platform's network that only the workers can reach. The platform
administrator lists the networks and host names the departments' systems live in; the
platform's own database is refused whatever the list says.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext_noop

from govdata.connectors.base import SourceFormatError
from govdata.connectors.dsn import DatabaseTarget, is_database_url, parse_database_url

_DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
    "mariadb": 3306,
}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses `host` resolves to, in the resolver's order (the order clients try)."""
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    addresses: list[IPAddress] = []
    for info in found:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _addresses(host: str, port: int) -> set[IPAddress]:
    return set(_resolve(host, port))


def _unmapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_this_machine(address: IPAddress) -> bool:
    """Whether a connection to `address` reaches this machine: a loopback address (all of
    127.0.0.0/8, not only 127.0.0.1), the unspecified address (0.0.0.0 connects locally), or
    one of the machine's own addresses (it can bind a socket to those only)."""
    address = _unmapped(address)
    if address.is_loopback or address.is_unspecified:
        return True
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def _same_place(
    host: str, addresses: set[IPAddress], other_host: str, other_addresses: set[IPAddress]
) -> bool:
    """Whether two (host, addresses) reach the same machine: the same name, a shared address,
    or both this machine (a server listening on all interfaces answers on every one of its
    addresses, whichever the platform's settings name)."""
    if host == other_host.lower():
        return True
    mine = {_unmapped(a) for a in addresses}
    theirs = {_unmapped(a) for a in other_addresses}
    if mine & theirs:
        return True
    return any(map(_is_this_machine, mine)) and any(map(_is_this_machine, theirs))


@dataclass(frozen=True)
class Endpoint:
    """A service the sources must never reach: host, port and (for a database) its name."""

    host: str
    port: int
    database: str = ""


@dataclass(frozen=True)
class HostPolicy:
    """`allowed`: networks (CIDR) and host names sources may be at; empty allows any host.
    `refused`: endpoints never reached, whatever `allowed` says."""

    allowed: tuple[str, ...] = ()
    refused: tuple[Endpoint, ...] = field(default_factory=tuple)

    def check(self, url: str) -> None:
        """Raise SourceFormatError (not worth a retry: the address itself is refused) unless
        `url` points where sources may be. A database URL is judged by where its client
        library would connect (`check_database`)."""
        if is_database_url(url):
            self.check_database(parse_database_url(url))
            return
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.split("+")[0].lower()
        host = (parts.hostname or "").lower()
        if not host:
            raise SourceFormatError(gettext_noop("The source address names no host."), {})
        try:
            port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
        except ValueError:
            raise SourceFormatError(
                gettext_noop("The source address has an invalid port."), {}
            ) from None
        database = urllib.parse.unquote(parts.path.lstrip("/").split("/")[0])
        self._check_place(host, port, database, _addresses(host, port))

    def check_database(self, target: DatabaseTarget) -> DatabaseTarget:
        """Check the database a SQL source connects to (host, port and database as the client
        library reads them), and return it pinned to the addresses checked: connecting to
        those, the worker reaches exactly what was checked."""
        addresses = _resolve(target.host, target.port)
        self._check_place(target.host.lower(), target.port, target.database, set(addresses))
        return target.pinned(tuple(str(a) for a in addresses))

    def _check_place(self, host: str, port: int, database: str, addresses: set[IPAddress]) -> None:
        for endpoint in self.refused:
            if port != endpoint.port:
                continue
            if endpoint.database and endpoint.database != database:
                continue
            if _same_place(host, addresses, endpoint.host, _addresses(endpoint.host, port)):
                raise SourceFormatError(
                    gettext_noop(
                        "A source may not be the platform's own database or services (%(host)s)."
                    ),
                    {"host": host},
                )
        if self.allowed and not _is_allowed(host, addresses, self.allowed):
            raise SourceFormatError(
                gettext_noop(
                    "The host %(host)s is not among the networks the platform administrator "
                    "allows sources in (GOVDATA_SYNC_SOURCE_HOSTS)."
                ),
                {"host": host},
            )


def _is_allowed(host: str, addresses: set, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            # A name allows itself, and ".example.gov.cn" every name under that domain.
            if host == entry or (entry.startswith(".") and host.endswith(entry)):
                return True
            continue
        # Every address the name resolves to must be inside: one outside is enough to be
        # led elsewhere.
        if addresses and all(address in network for address in addresses):
            return True
    return False
