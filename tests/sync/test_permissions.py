"""Who may see and do what with syncs (apps.sync.permissions), and the services refusing it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.common import clock
from apps.sync import permissions as perms
from apps.sync.models import SyncConfig, SyncRun
from apps.sync.services import sync_config_set, sync_run_request, sync_upload_store
from tests.factories import DatasetFactory, UserFactory, auditor_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def runs(world):
    """A finished run of the provider's dataset (GA) and one of the consumer's (WJ)."""
    foreign = DatasetFactory(provider=world.consumer, code="WJ-YM-001")
    result = {}
    for dataset in (world.dataset, foreign):
        config = sync_config_set(dataset=dataset, kind="csv", options={"path": "/x.csv"})
        result[dataset.provider.code] = SyncRun.objects.create(
            dataset=dataset, config=config, status="succeeded", trigger="manual", mode="full",
            kind="csv", created_at=clock.now(),
        )  # fmt: skip
    return result


def visible_runs(user) -> set[str]:
    return {run.dataset.provider.code for run in perms.sync_runs_visible(user)}


def test_officer_manages_the_syncs_of_own_departments_datasets_only(world, runs):
    officer = world.provider_officer
    assert perms.can_configure_syncs(officer)
    assert perms.can_manage_dataset_sync(officer, world.dataset)
    assert not perms.can_manage_dataset_sync(officer, runs["WJ"].dataset)
    assert list(perms.datasets_syncable(officer)) == [world.dataset]
    assert {c.dataset.code for c in perms.sync_configs_visible(officer)} == {"GA-RK-001"}
    assert visible_runs(officer) == {"GA"}
    assert not perms.can_delete_sync_configs(officer)


def test_officer_may_download_own_quarantine_only(world, runs):
    annotated = {
        r.dataset.provider.code: r for r in perms.sync_runs_visible(world.consumer_officer)
    }
    assert annotated["WJ"].quarantine_allowed is True and set(annotated) == {"WJ"}
    assert perms.can_download_quarantine(world.consumer_officer, runs["WJ"])
    assert not perms.can_download_quarantine(world.consumer_officer, runs["GA"])


def test_platform_auditor_views_every_run_and_nothing_else(world, runs):
    auditor = world.platform_auditor
    assert perms.can_view_runs(auditor) and visible_runs(auditor) == {"GA", "WJ"}
    assert not perms.can_configure_syncs(auditor)
    assert not perms.sync_configs_visible(auditor).exists()
    assert not perms.datasets_syncable(auditor).exists()
    assert not any(r.quarantine_allowed for r in perms.sync_runs_visible(auditor))
    assert not perms.can_download_quarantine(auditor, runs["GA"])


def test_department_auditor_views_own_departments_runs_only(world, runs):
    auditor = world.provider_auditor
    assert perms.can_view_runs(auditor) and visible_runs(auditor) == {"GA"}
    assert not perms.can_configure_syncs(auditor)
    assert not perms.can_download_quarantine(auditor, runs["GA"])


def test_platform_admin_may_do_everything(world, runs):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    assert visible_runs(root) == {"GA", "WJ"} and perms.sync_configs_visible(root).count() == 2
    assert perms.can_manage_dataset_sync(root, runs["WJ"].dataset)
    assert perms.can_delete_sync_configs(root)
    assert all(r.quarantine_allowed for r in perms.sync_runs_visible(root))


def test_users_without_a_role_or_inactive_see_nothing(world, runs):
    nobody = UserFactory(username="nobody", is_staff=True)
    world.provider_officer.is_active = False
    for user in (nobody, world.provider_officer):
        assert not perms.can_view_runs(user) and not perms.can_configure_syncs(user)
        assert visible_runs(user) == set() and not perms.sync_configs_visible(user).exists()
    assert visible_runs(auditor_of(world.outsider)) == set()


def test_services_refuse_a_user_of_another_department(world, runs, tmp_path):
    outsider = world.outsider_officer
    with pytest.raises(PermissionDenied):
        sync_config_set(dataset=world.dataset, kind="sql", by=outsider)
    with pytest.raises(PermissionDenied):
        sync_run_request(dataset=world.dataset, by=outsider, enqueue=False)
    upload = SimpleUploadedFile("p.csv", b"id_number\n1\n")
    with pytest.raises(PermissionDenied):
        sync_upload_store(dataset=world.dataset, upload=upload, by=outsider, enqueue=False)
    assert SyncConfig.objects.get(dataset=world.dataset).kind == "csv"
    assert SyncRun.objects.count() == 2


def test_services_accept_the_providers_officer_and_the_schedule(world, runs):
    run = sync_run_request(dataset=world.dataset, by=world.provider_officer, enqueue=False)
    assert run.requested_by == world.provider_officer
    SyncRun.objects.filter(pk=run.pk).update(status="failed")
    assert sync_run_request(dataset=world.dataset, enqueue=False).requested_by is None
