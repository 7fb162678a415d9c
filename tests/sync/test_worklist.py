"""The home page's "Sync runs failed in the last 7 days": its count and the runs list it opens
hold the same runs."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.departments.services import membership_add
from apps.sync.models import SyncRun
from tests.factories import DatasetFactory
from tests.sync.helpers import finished_run, listed_run_ids

pytestmark = pytest.mark.django_db
LABEL = "Sync runs failed in the last 7 days"


def failed_runs_item(client):
    items = client.get(reverse("admin:index")).context["worklist"]
    return next(item for item in items if item.label == LABEL)


def test_the_count_of_failed_runs_is_the_list_it_links_to(world, client):
    recent = [
        finished_run(world.dataset, SyncRun.Status.FAILED, days_ago=0),
        finished_run(world.dataset, SyncRun.Status.FAILED, days_ago=6.9),
    ]
    finished_run(world.dataset, SyncRun.Status.FAILED, days_ago=7.1)  # older than the count's days
    finished_run(world.dataset, SyncRun.Status.FAILED, days_ago=40)
    finished_run(world.dataset, SyncRun.Status.SUCCEEDED, days_ago=1)
    finished_run(DatasetFactory(provider=world.outsider), SyncRun.Status.FAILED, days_ago=1)
    client.force_login(world.provider_officer)
    item = failed_runs_item(client)
    assert item.count == 2
    assert sorted(listed_run_ids(client, item.url)) == sorted(run.pk for run in recent)


def test_an_officer_who_also_audits_another_department_counts_what_the_list_shows(world, client):
    # The runs list shows an auditor's department's runs too: the count follows the list.
    finished_run(world.dataset, SyncRun.Status.FAILED, days_ago=1)
    finished_run(DatasetFactory(provider=world.outsider), SyncRun.Status.FAILED, days_ago=2)
    membership_add(user=world.provider_officer, department=world.outsider, role="auditor")
    client.force_login(world.provider_officer)
    item = failed_runs_item(client)
    assert item.count == len(listed_run_ids(client, item.url)) == 2


def test_auditors_have_no_such_item(world, client):
    finished_run(world.dataset, SyncRun.Status.FAILED, days_ago=1)
    client.force_login(world.provider_auditor)
    items = client.get(reverse("admin:index")).context["worklist"]
    assert LABEL not in [item.label for item in items]
