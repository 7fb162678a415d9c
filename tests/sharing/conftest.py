"""The sharing test world: the base `world` (GA provides GA-RK-001, WJ consumes, MZ outsider)
plus a second dataset provided by WJ, so that every department is owner of something or not."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.factories import dataset_with_fields

VACCINATION_FIELDS = [
    # name, label, data type, sharing type, masking
    ("person_id", "受种者身份证号", "id_card", "conditional", "hash"),
    ("vaccine", "疫苗名称", "string", "unconditional", "none"),
    ("dose_date", "接种日期", "date", "conditional", "none"),
    ("clinic_address", "接种点地址", "string", "unconditional", "address"),
    ("phone", "联系电话", "mobile", "conditional", "mobile"),
    ("allergy", "过敏史", "string", "none", "redact"),
]

# A fixed Monday, so that working-day arithmetic in the tests is predictable.
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


@dataclass
class SharingWorld:
    base: Any
    vaccination: Any
    vaccination_fields: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.base, name)

    @property
    def departments(self) -> list:
        return [self.base.provider, self.base.consumer, self.base.outsider]

    @property
    def datasets(self) -> list:
        return [self.base.dataset, self.vaccination]


def build_vaccination_dataset(provider, code: str = "WJ-YM-001"):
    return dataset_with_fields(
        provider=provider,
        code=code,
        name="疫苗接种信息",
        key_field="person_id",
        legal_basis="《中华人民共和国疫苗管理法》",
        specs=VACCINATION_FIELDS,
    )


@pytest.fixture
def sw(world) -> SharingWorld:
    dataset, fields = build_vaccination_dataset(world.consumer)
    return SharingWorld(base=world, vaccination=dataset, vaccination_fields=fields)


@pytest.fixture
def at_monday():
    import time_machine

    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def submit(dataset, consumer, officer, fields, *, days: int = 180, purpose: str = "健康码核验"):
    from apps.common import clock
    from apps.sharing.submission import request_submit

    return request_submit(
        consumer=consumer,
        dataset=dataset,
        fields=fields,
        purpose=purpose,
        legal_basis="《突发公共卫生事件应急条例》",
        valid_until=clock.today() + dt.timedelta(days=days),
        by=officer,
    )


@pytest.fixture
def flushable(transactional_db):
    """A transactional test's tables are flushed with TRUNCATE, which the audit log's
    append-only triggers refuse; the flush runs with triggers off (replica role). Django closes
    the connection right after the flush, so the role does not outlive it."""
    from django.db import connection

    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
