"""Celery beat task of objections: a thin wrapper around the deadline service."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="objections.objections_mark_overdue", time_limit=120, soft_time_limit=100)
def objections_mark_overdue() -> int:
    from apps.objections.deadlines import objections_mark_overdue as run

    return run()
