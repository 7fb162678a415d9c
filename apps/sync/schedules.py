"""Each dataset's sync schedule as a django-celery-beat PeriodicTask, derived from the dataset's
update frequency. Officers see (and may pause) these rows in the admin; this module owns them."""

from __future__ import annotations

import json

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from apps.sync.models import FILE_KINDS, SyncConfig
from govdata.vocabulary import UpdateFrequency

TASK = "apps.sync.tasks.sync_dataset_scheduled"
REALTIME_MINUTES = 5


def task_name(dataset) -> str:
    return f"sync:{dataset.code}"


def _crontab(frequency: str, spread: int) -> dict[str, str] | None:
    """Crontab fields for a frequency. `spread` staggers datasets across the hour/night so that
    they do not all hit the source systems and the database at the same minute."""
    minute, hour = str(spread % 60), str(1 + spread % 5)  # nightly runs between 01:00 and 05:59
    table = {
        UpdateFrequency.HOURLY: {"minute": minute, "hour": "*"},
        UpdateFrequency.DAILY: {"minute": minute, "hour": hour},
        UpdateFrequency.WEEKLY: {"minute": minute, "hour": hour, "day_of_week": "1"},
        UpdateFrequency.MONTHLY: {"minute": minute, "hour": hour, "day_of_month": "1"},
        UpdateFrequency.QUARTERLY: {
            "minute": minute,
            "hour": hour,
            "day_of_month": "1",
            "month_of_year": "1,4,7,10",
        },
        UpdateFrequency.YEARLY: {
            "minute": minute,
            "hour": hour,
            "day_of_month": "1",
            "month_of_year": "1",
        },
    }
    return table.get(frequency)


def sync_schedule_apply(*, config: SyncConfig) -> PeriodicTask | None:
    """Create, update or remove the PeriodicTask of one dataset. File sources and on-demand
    datasets have no schedule: their runs start from an upload or "sync now"."""
    dataset = config.dataset
    name = task_name(dataset)
    frequency = dataset.update_frequency
    wanted = config.scheduled and config.kind not in FILE_KINDS
    with transaction.atomic():
        if not wanted or frequency == UpdateFrequency.ON_DEMAND:
            PeriodicTask.objects.filter(name=name).delete()
            return None
        defaults = {
            "task": TASK,
            "kwargs": json.dumps({"dataset_id": dataset.pk}),
            "enabled": True,
            "interval": None,
            "crontab": None,
            "description": f"{dataset.code} {dataset.name} ({frequency})",
        }
        if frequency == UpdateFrequency.REALTIME:
            defaults["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=REALTIME_MINUTES, period=IntervalSchedule.MINUTES
            )
        else:
            fields = _crontab(frequency, dataset.pk)
            if fields is None:
                PeriodicTask.objects.filter(name=name).delete()
                return None
            defaults["crontab"], _ = CrontabSchedule.objects.get_or_create(
                **fields, timezone="Asia/Shanghai"
            )
        task, _ = PeriodicTask.objects.update_or_create(name=name, defaults=defaults)
        return task


def sync_schedules_reconcile() -> int:
    """Bring every dataset's PeriodicTask in line with its current update frequency (the
    catalogue may change a frequency without telling us). Returns the number of configs seen."""
    configs = list(SyncConfig.objects.select_related("dataset"))
    for config in configs:
        sync_schedule_apply(config=config)
    known = {task_name(c.dataset) for c in configs}
    PeriodicTask.objects.filter(task=TASK).exclude(name__in=known).delete()
    return len(configs)
