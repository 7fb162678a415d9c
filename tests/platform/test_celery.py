"""The Celery app (config/celery.py): every task of ours can be sent, by beat or by a service."""

from __future__ import annotations

import pytest

from config.celery import app


def _our_tasks():
    app.loader.import_default_modules()
    return sorted(
        (task for name, task in app.tasks.items() if not name.startswith("celery.")),
        key=lambda task: task.name,
    )


def test_the_app_has_the_tasks_of_every_app():
    names = {task.name for task in _our_tasks()}
    assert {
        "apps.sync.tasks.sync_run_execute",
        "apps.sync.tasks.sync_dataset_scheduled",
        "audit.checkpoint_sign",
        "sharing.grants_expire_due",
    } <= names


@pytest.mark.parametrize("task", _our_tasks(), ids=lambda task: task.name)
def test_every_task_has_its_soft_time_limit_inside_its_hard_one(task):
    # Celery refuses to send a task whose soft limit is above its hard one (apply_async
    # raises ValueError): beat would log the error and never queue it.
    from django.conf import settings

    if task.soft_time_limit and task.time_limit:
        assert task.soft_time_limit < task.time_limit
    if task.time_limit and task.time_limit != settings.CELERY_TASK_TIME_LIMIT:
        # A hard limit of its own needs a soft one of its own: the inherited setting is not
        # the same in tests and in production (where it is about two hours).
        assert task.soft_time_limit != settings.CELERY_TASK_SOFT_TIME_LIMIT


def test_every_beat_entry_names_a_task_of_the_app():
    from django.conf import settings

    names = {task.name for task in _our_tasks()}
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in names
