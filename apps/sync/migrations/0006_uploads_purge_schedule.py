"""The daily beat entry that deletes uploaded source files past their retention
(apps.sync.tasks.sync_uploads_purge). A django-celery-beat row of apps.sync's own, like each
dataset's schedule (apps.sync.schedules): officers and administrators see it, and may pause it,
in the admin's periodic tasks."""

from django.db import migrations

NAME = "sync-uploads-purge"
TASK = "apps.sync.tasks.sync_uploads_purge"


def forward(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # 03:40, after the nightly syncs have started (01:00-05:59, spread by minute) and away
    # from the audit partitions' maintenance (02:15).
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute="40",
        hour="3",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "crontab": crontab,
            "enabled": True,
            "description": "Delete uploaded sync source files past their retention "
            '(GOVDATA["SYNC_UPLOAD_RETENTION_DAYS"], default 30 days).',
        },
    )


def backward(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0005_run_errors_cancel_retention"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forward, backward)]
