"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_safe


def _json(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


# Probes are read with GET or HEAD; anything else is a 405, not a CSRF page (they take no
# cookies and change nothing).
@csrf_exempt
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return _json({"status": "ok"})


@csrf_exempt
@require_safe
def readyz(request: HttpRequest) -> HttpResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        checks["database"] = f"error: {exc.__class__.__name__}"
    try:
        from kombu import Connection

        # Through kombu, as Celery connects: it also understands the embedded
        # `redis+socket://` URL, which redis-py's from_url does not.
        with Connection(settings.CELERY_BROKER_URL, connect_timeout=1) as broker:
            broker.ensure_connection(max_retries=1)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"error: {exc.__class__.__name__}"
    ready = all(v == "ok" for v in checks.values())
    response = _json(
        {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503
    )
    if not ready:
        response["Retry-After"] = "5"
    return response
