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
        if host and not host.startswith("/"):  # a Unix socket: no URL can name it as a host
            refused.append(Endpoint(host, int(db.get("PORT") or 5432), db.get("NAME") or ""))
    return HostPolicy(
        allowed=tuple(settings.GOVDATA.get("SYNC_SOURCE_HOSTS") or ()), refused=tuple(refused)
    )
