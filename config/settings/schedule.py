"""Celery beat entries. django-celery-beat's DatabaseScheduler copies these into its tables,
where officers can see and pause them in the admin. Each app adds its own entries here."""

from celery.schedules import crontab  # noqa: F401 - used by entries below

CELERY_BEAT_SCHEDULE: dict = {}
