from __future__ import annotations

import pytest

from apps.records.store import store_replace_rows
from tests.records.rows import ROWS


@pytest.fixture
def loaded(world):
    store_replace_rows(world.dataset, ROWS)
    return world
