"""Celery beat entries. django-celery-beat's DatabaseScheduler copies these into its tables,
where officers can see and pause them in the admin. Each app adds its own entries here."""

from celery.schedules import crontab  # noqa: F401 - used by entries below

CELERY_BEAT_SCHEDULE: dict = {}

# apps.sync: per-dataset runs are PeriodicTask rows managed by apps.sync.schedules; this entry
# keeps them in line with update frequencies changed in the catalogue.
CELERY_BEAT_SCHEDULE["sync-schedules-reconcile"] = {
    "task": "apps.sync.tasks.sync_schedules_reconcile",
    "schedule": crontab(minute=7),
}
CELERY_BEAT_SCHEDULE["sync-runs-requeue-stale"] = {
    "task": "apps.sync.tasks.sync_runs_requeue_stale",
    "schedule": crontab(minute="*/15"),
}

# apps.sharing: expiry every 5 minutes (the read path never trusts an expired grant anyway);
# reminders and escalation each working morning.
CELERY_BEAT_SCHEDULE["sharing-grants-expire"] = {
    "task": "sharing.grants_expire_due",
    "schedule": crontab(minute="*/5"),
}
CELERY_BEAT_SCHEDULE["sharing-requests-remind"] = {
    "task": "sharing.requests_remind_due",
    "schedule": crontab(hour=8, minute=30),
}
CELERY_BEAT_SCHEDULE["sharing-requests-overdue"] = {
    "task": "sharing.requests_mark_overdue",
    "schedule": crontab(hour=8, minute=45),
}

# apps.objections: open objections past their due date are marked overdue and escalated every
# morning, after the requests.
CELERY_BEAT_SCHEDULE["objections-mark-overdue"] = {
    "task": "objections.objections_mark_overdue",
    "schedule": crontab(hour=8, minute=50),
}

# apps.audit: sign the chain head every 5 minutes, look for anomalies every 10 (the detectors'
# windows slide and their alerts are deduplicated per anomaly, so neither a run's time nor an
# extra run by hand changes what is raised; AUDIT_ALERTS["SCHEDULE_MINUTES"] must match this),
# and keep monthly partitions created ahead (and archive old ones when a retention is set).
CELERY_BEAT_SCHEDULE["audit-checkpoint-sign"] = {
    "task": "audit.checkpoint_sign",
    "schedule": crontab(minute="*/5"),
}
CELERY_BEAT_SCHEDULE["audit-anomalies-detect"] = {
    "task": "audit.anomalies_detect",
    "schedule": crontab(minute="*/10"),
}
CELERY_BEAT_SCHEDULE["audit-partitions-maintain"] = {
    "task": "audit.partitions_maintain",
    "schedule": crontab(hour=2, minute=15),
}
