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

from django.utils.translation import gettext as _

from govdata.connectors.base import SourceFormatError

_DEFAULT_PORTS = {
    "http": 80,
    "https": 443,
    "postgres": 5432,
    "postgresql": 5432,
    "mysql": 3306,
    "mariadb": 3306,
}


def _addresses(host: str, port: int) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return set()
    return {ipaddress.ip_address(info[4][0].split("%")[0]) for info in found}


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
        `url` points where sources may be."""
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.split("+")[0].lower()
        host = (parts.hostname or "").lower()
        if not host:
            raise SourceFormatError(_("The source address names no host."))
        try:
            port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
        except ValueError:
            raise SourceFormatError(_("The source address has an invalid port.")) from None
        addresses = _addresses(host, port)
        database = parts.path.lstrip("/").split("/")[0]
        for endpoint in self.refused:
            same_database = not endpoint.database or endpoint.database == (database or "")
            if (
                port == endpoint.port
                and same_database
                and (host == endpoint.host.lower() or addresses & _addresses(endpoint.host, port))
            ):
                raise SourceFormatError(
                    _("A source may not be the platform's own database or services (%(host)s).")
                    % {"host": host}
                )
        if self.allowed and not _is_allowed(host, addresses, self.allowed):
            raise SourceFormatError(
                _(
                    "The host %(host)s is not among the networks the platform administrator "
                    "allows sources in (GOVDATA_SYNC_SOURCE_HOSTS)."
                )
                % {"host": host}
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
