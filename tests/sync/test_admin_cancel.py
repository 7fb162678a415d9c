"""Cancelling a sync run in the admin asks first: the run's page links to a confirmation page
(GET, which changes nothing) whose POST form cancels; both are refused to whoever may not
cancel the run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.common import clock
from apps.sync.models import SyncRun
from apps.sync.recording import CANCEL, run_target
from apps.sync.services import sync_config_set
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _waiting(world) -> SyncRun:
    """A run waiting to retry its third attempt, as a source that is down leaves it."""
    config = sync_config_set(dataset=world.dataset, kind="csv")
    return SyncRun.objects.create(
        dataset=world.dataset, config=config, status="retrying", trigger="manual", mode="full",
        kind="csv", phase="reading", created_at=clock.now(), attempts=2,
        next_attempt_at=clock.now() + dt.timedelta(seconds=60),
    )  # fmt: skip


def _cancel_url(run: SyncRun) -> str:
    return reverse("admin:sync_syncrun_cancel", args=[run.pk])


def _cancelled_events(run: SyncRun) -> int:
    return AuditEvent.objects.filter(
        action=CANCEL, body__contains=f'"target":"{run_target(run)}"'
    ).count()


@pytest.fixture
def run(world) -> SyncRun:
    return _waiting(world)


def test_the_run_page_links_to_the_confirmation_instead_of_cancelling(client, world, run):
    client.force_login(world.provider_officer)
    page = client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).content.decode()
    assert f'<a href="{_cancel_url(run)}">Cancel this run</a>' in page
    assert f'action="{_cancel_url(run)}"' not in page  # no form that cancels at once


def test_the_confirmation_page_shows_the_run_and_cancels_nothing(client, world, run):
    client.force_login(world.provider_officer)
    response = client.get(_cancel_url(run))
    assert response.status_code == 200
    page = response.content.decode()
    assert "admin/sync/syncrun/cancel_confirmation.html" in [t.name for t in response.templates]
    assert str(world.dataset) in page and "Waiting to retry" in page
    assert "2 of 6" in page  # the attempts so far
    assert '<form method="post">' in page and 'name="csrfmiddlewaretoken"' in page
    assert 'value="Yes, cancel this run"' in page
    assert reverse("admin:sync_syncrun_change", args=[run.pk]) in page  # the way back
    run.refresh_from_db()
    assert (run.status, run.cancelled_by, run.finished_at) == ("retrying", None, None)
    assert _cancelled_events(run) == 0


def test_posting_the_confirmation_cancels_the_run(client, world, run):
    client.force_login(world.provider_officer)
    response = client.post(_cancel_url(run), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:sync_syncrun_change", args=[run.pk])
    assert f"Run #{run.pk} cancelled." in response.content.decode()
    run.refresh_from_db()
    assert (run.status, run.cancelled_by) == ("cancelled", world.provider_officer)
    assert _cancelled_events(run) == 1


def test_the_confirmation_of_an_ended_run_sends_back_to_its_page_with_a_message(client, world, run):
    client.force_login(world.provider_officer)
    client.post(_cancel_url(run))
    response = client.get(_cancel_url(run), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:sync_syncrun_change", args=[run.pk])
    assert f"Run #{run.pk} has already ended (Cancelled)." in response.content.decode()


def test_a_platform_admin_may_confirm_and_cancel(client, run):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(_cancel_url(run)).status_code == 200
    assert client.post(_cancel_url(run)).status_code == 302
    assert SyncRun.objects.get(pk=run.pk).status == "cancelled"


@pytest.mark.parametrize("who", ["provider_auditor", "platform_auditor"])
def test_who_sees_the_run_but_may_not_cancel_it_gets_403_on_both(client, world, run, who):
    client.force_login(getattr(world, who))
    assert client.get(reverse("admin:sync_syncrun_change", args=[run.pk])).status_code == 200
    assert client.get(_cancel_url(run)).status_code == 403
    assert client.post(_cancel_url(run)).status_code == 403
    assert SyncRun.objects.get(pk=run.pk).status == "retrying"


def test_another_departments_officer_does_not_find_the_run(client, world, run):
    client.force_login(world.outsider_officer)
    assert client.get(_cancel_url(run)).status_code == 404
    assert client.post(_cancel_url(run)).status_code == 404
    assert SyncRun.objects.get(pk=run.pk).status == "retrying"


def test_other_methods_are_refused(client, world, run):
    client.force_login(world.provider_officer)
    assert client.put(_cancel_url(run)).status_code == 405
    assert SyncRun.objects.get(pk=run.pk).status == "retrying"
