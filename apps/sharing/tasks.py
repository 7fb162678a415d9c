"""Celery beat tasks of the sharing workflow: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="sharing.requests_remind_due")
def requests_remind_due() -> int:
    from apps.sharing.deadlines import requests_remind_due as run

    return run()


@shared_task(name="sharing.requests_mark_overdue")
def requests_mark_overdue() -> int:
    from apps.sharing.deadlines import requests_mark_overdue as run

    return run()


@shared_task(name="sharing.grants_expire_due")
def grants_expire_due() -> int:
    from apps.sharing.grant_services import grants_expire_due as run

    return run()
