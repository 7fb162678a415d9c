"""apps.sync.engine: what a run tells while it reads and after it fails, whatever its source."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from apps.sync import engine
from apps.sync.labels import progress_label
from apps.sync.models import SyncRun
from apps.sync.services import sync_config_set, sync_run_request
from govdata.connectors import REGISTRY, Connector, SourceData, SourceFormatError
from tests.sync.helpers import COLUMNS, population_rows

pytestmark = pytest.mark.django_db


class _Api(Connector):
    """An API source of `rows` rows, which can tell no share read, and fails after them when
    `fail` is set; `seen` records what the run had saved at each batch."""

    kind = "http"
    rows = 500
    fail = True
    seen: list[tuple[int, str]] = []

    @contextmanager
    def open(self, *, watermark_column=None, since=None):
        def rows():
            for number, row in enumerate(population_rows(self.rows), start=1):
                yield number, [row[c] for c in COLUMNS]
            if self.fail:
                raise SourceFormatError("The source API did not answer JSON.")

        yield SourceData(columns=list(COLUMNS), rows=rows())


@pytest.fixture
def api(world, monkeypatch):
    monkeypatch.setitem(REGISTRY, "http", _Api)
    sync_config_set(
        dataset=world.dataset, kind="http", options={"url": "http://x", "batch_rows": 200}
    )
    return sync_run_request(dataset=world.dataset, enqueue=False)


def test_a_run_failing_mid_source_counts_the_rows_it_had_read(api):
    """Exploratory finding P19: "Read: 0" after 500 records."""
    run = engine.run_execute(run_id=api.pk)
    assert run.status == SyncRun.Status.FAILED
    assert SyncRun.objects.get(pk=api.pk).rows_read == 500


def test_while_reading_a_source_without_a_share_the_label_counts_rows(api, monkeypatch):
    """Each batch saves the rows read; the page shows them, as no percentage can be given."""
    monkeypatch.setattr(_Api, "fail", False)
    labels = []
    save = engine._Loader.flush

    def flush(loader, cursor):
        save(loader, cursor)
        labels.append(progress_label(SyncRun.objects.get(pk=loader.run.pk)))

    monkeypatch.setattr(engine._Loader, "flush", flush)
    assert engine.run_execute(run_id=api.pk).status == SyncRun.Status.SUCCEEDED
    assert labels[:2] == [
        "Reading the source · 200 rows read",
        "Reading the source · 400 rows read",
    ]
