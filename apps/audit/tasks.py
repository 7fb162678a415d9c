"""Celery beat tasks of the audit log: thin wrappers around the services."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="audit.checkpoint_sign")
def checkpoint_sign() -> int | None:
    from apps.audit.services import checkpoint_create

    checkpoint = checkpoint_create()
    return checkpoint.seq if checkpoint else None


@shared_task(name="audit.partitions_maintain")
def partitions_maintain() -> list[str]:
    from django.conf import settings

    from apps.audit.partitions import partitions_archive_older_than, partitions_ensure

    created = partitions_ensure(months_ahead=3)
    retention = settings.GOVDATA.get("AUDIT_RETENTION_MONTHS")
    archived = partitions_archive_older_than(months=retention) if retention else []
    return created + archived


@shared_task(name="audit.anomalies_detect")
def anomalies_detect() -> int:
    from apps.audit.anomalies import alerts_detect_all
    from apps.audit.anomalies_email import alerts_notify

    raised = alerts_detect_all()
    alerts_notify()
    return len(raised)
