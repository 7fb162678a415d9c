"""The fault tests of test_faults.py, with the worker on the Python path (fast path off): its
COPY goes over two connections of its own too, and a SIGKILL or a cut connection must leave the
published data unchanged all the same."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync import test_faults
from tests.sync.test_faults import scenario  # noqa: F401 - the fixture, used by name

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("flushable_db")]


@pytest.fixture(autouse=True)
def _python_path_worker(monkeypatch):
    monkeypatch.setattr(
        test_faults, "WORKER", Path(__file__).with_name("run_worker_python_path.py")
    )


@pytest.mark.parametrize("point", ["mid_copy", "after_read", "before_publish"])
def test_sigkill_on_the_python_path_leaves_published_data_unchanged(scenario, tmp_path, point):  # noqa: F811
    test_faults.test_sigkill_leaves_published_data_unchanged_and_rerun_equals_clean_run(
        scenario, tmp_path, point
    )


def test_connection_cut_on_the_python_path_leaves_published_data_unchanged(scenario, tmp_path):  # noqa: F811
    test_faults.test_connection_cut_mid_run_leaves_published_data_and_rerun_equals_clean_run(
        scenario, tmp_path
    )
