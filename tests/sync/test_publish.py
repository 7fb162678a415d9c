"""apps.sync.publish: what a full run says about the records it removes."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sync import engine
from apps.sync.models import SyncRun
from apps.sync.services import sync_config_set, sync_upload_store
from tests.sync.helpers import live_rows, population_rows, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _run(world, tmp_path, rows, name: str) -> SyncRun:
    data = write_csv(tmp_path / name, rows).read_bytes()
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile(name, data), enqueue=False
    )
    return engine.run_execute(run_id=run.pk)


@pytest.mark.parametrize("fast_path", [True, False], ids=["arrow", "python"])
def test_a_full_run_tells_which_removals_come_from_rejected_rows(
    world, tmp_path, settings, fast_path
):
    """Exploratory finding P19: a record whose new row was rejected vanished as "removed 1"."""
    settings.GOVDATA = {**settings.GOVDATA, "SYNC_FAST_PATH": fast_path}
    sync_config_set(dataset=world.dataset, kind="csv", reject_threshold=0.5)
    rows = population_rows(20)
    assert _run(world, tmp_path, rows, "first.csv").status == SyncRun.Status.SUCCEEDED
    second = [{**rows[0], "mobile": "999"}, *rows[1:18]]  # row 0 rejected, 18 and 19 gone
    second[5] = {**second[5], "id_number": "not an id"}  # rejected, and its key with it
    run = _run(world, tmp_path, second, "second.csv")
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert (run.rows_rejected, run.rows_removed) == (2, 4)
    # rows[0] (a valid key on a rejected row) is told apart; rows[5]'s key was not valid.
    assert run.rows_removed_rejected == 1
    assert len(live_rows(world.dataset)) == 16


def test_a_full_run_without_rejections_removes_nothing_because_of_them(world, tmp_path):
    rows = population_rows(10)
    _run(world, tmp_path, rows, "first.csv")
    run = _run(world, tmp_path, rows[:8], "second.csv")
    assert (run.rows_removed, run.rows_removed_rejected) == (2, 0)
