"""The runs list's "requested at" filter (apps.sync.admin_filters)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from apps.sync.models import SyncRun
from tests.sync.helpers import finished_run, listed_run_ids

pytestmark = pytest.mark.django_db
RUNS = "admin:sync_syncrun_changelist"


def test_runs_requested_within_the_chosen_days_are_listed(world, client):
    today = finished_run(world.dataset, SyncRun.Status.SUCCEEDED, days_ago=0)
    last_month = finished_run(world.dataset, SyncRun.Status.FAILED, days_ago=20)
    older = finished_run(world.dataset, SyncRun.Status.FAILED, days_ago=31)
    client.force_login(world.provider_officer)
    runs = reverse(RUNS)
    page = client.get(runs).content.decode()
    assert "?requested_within=7" in page and "Last 30 days" in page
    assert listed_run_ids(client, f"{runs}?requested_within=7") == [today.pk]
    assert listed_run_ids(client, f"{runs}?requested_within=30") == [today.pk, last_month.pk]
    everything = [today.pk, last_month.pk, older.pk]
    assert listed_run_ids(client, runs) == everything
    # A day count the list does not offer filters nothing (rather than anything it might mean).
    assert listed_run_ids(client, f"{runs}?requested_within=3650") == everything
