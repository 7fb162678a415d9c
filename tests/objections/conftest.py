"""The objections test world: the base `world` (GA provides GA-RK-001, WJ consumes, MZ outsider,
a GA auditor and a platform auditor) with its records loaded and a live grant for WJ on
id_number, name, birth_date and mobile. MZ reads only the unconditional fields (not the key), so
it cannot name a record."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.records.rows import ROWS

GRANTED = ["id_number", "name", "birth_date", "mobile"]
KEY = ROWS[0]["id_number"]
CODE = "GA-RK-001"
# A fixed Monday, so that working-day arithmetic is predictable.
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@dataclass
class ObjectionWorld:
    base: Any
    request_id: int

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)


def grant(world, consumer, officer, fields, *, row_filter=None, days: int = 30):
    from apps.common import clock
    from apps.sharing.services import request_approve
    from apps.sharing.submission import request_submit

    request = request_submit(
        consumer=consumer,
        dataset=world.dataset,
        fields=fields,
        purpose="数据质量核查",
        legal_basis="《政务数据共享条例》",
        valid_until=clock.today() + dt.timedelta(days=days),
        by=officer,
    )
    return request_approve(request=request, by=world.provider_officer, row_filter=row_filter)


@pytest.fixture
def monday():
    import time_machine

    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ow(world) -> ObjectionWorld:
    from apps.records.store import store_ensure_table, store_replace_rows

    store_ensure_table(world.dataset)
    store_replace_rows(world.dataset, ROWS)
    from apps.sharing.models import Notification

    granted = grant(world, world.consumer, world.consumer_officer, GRANTED)
    Notification.objects.all().delete()  # those of the grant: tests count their own
    return ObjectionWorld(base=world, request_id=granted.request_id)


def _free_key(consumer) -> str:
    """The first record's key, or the next one on which `consumer` has no open objection (a
    department has one open objection per record)."""
    from apps.objections.models import Objection

    taken = set(
        Objection.objects.filter(consumer=consumer, status="open").values_list(
            "record_key", flat=True
        )
    )
    return next(r["id_number"] for r in ROWS if r["id_number"] not in taken)


def report(ow, *, by=None, agency=None, consumer=None, **overrides):
    """objection_submit as WJ's officer, on the first record's name (the next record's when that
    one already has an open objection of the department), unless told otherwise."""
    from apps.objections.services import objection_submit

    values = {
        "dataset": ow.dataset,
        "key": _free_key(consumer or ow.consumer),
        "fields": ["name"],
        "description": "姓名与户籍登记不一致",
        "proposed_value": "张叁",
    }
    values.update(overrides)
    if agency is None and by is None:
        by = ow.consumer_officer
    return objection_submit(consumer=consumer or ow.consumer, by=by, agency=agency, **values)
