"""The host policy of this deployment's sources (govdata/connectors/hosts.py), from settings."""

from __future__ import annotations

from django.conf import settings
from django.db import connections

from govdata.connectors.hosts import Endpoint, HostPolicy


def source_host_policy() -> HostPolicy:
    """GOVDATA["SYNC_SOURCE_HOSTS"] allowed; the platform's own database refused."""
    refused = []
    for alias in connections:
        db = connections[alias].settings_dict  # in tests, the test database's name
        host = db.get("HOST") or ""
        port, name = int(db.get("PORT") or 5432), db.get("NAME") or ""
        if host and not host.startswith("/"):
            refused.append(Endpoint(host, port, name))
        else:
            # Reached through a Unix socket, the same server also answers on the loopback
            # (govdata.connectors.hosts takes every local address for this machine).
            refused.append(Endpoint("127.0.0.1", port, name))
    return HostPolicy(
        allowed=tuple(settings.GOVDATA.get("SYNC_SOURCE_HOSTS") or ()), refused=tuple(refused)
    )
