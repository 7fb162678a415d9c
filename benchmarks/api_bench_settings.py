"""Production settings plus the benchmark-only constant view, served over plain HTTP on
loopback (no TLS proxy in front), with the audit switch from the environment."""

import os

from config.settings.production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
GOVDATA = {  # noqa: F405
    **GOVDATA,  # noqa: F405
    "API_BENCH_VIEWS": True,
    "AUDIT_ENABLED": os.environ.get("BENCH_AUDIT", "1") == "1",
}
REST_FRAMEWORK = {  # noqa: F405
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"application": "100000000/min"},
}
