"""The base test world, reused by every test module: a provider department with a dataset whose
fields cover every sharing type and mask, a consumer that will hold a grant, a consumer without
one, and auditors (department and platform)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import (
    DepartmentFactory,
    UserFactory,
    auditor_of,
    dataset_with_fields,
    officer_of,
)

POPULATION_FIELDS = [
    # name, label, data type, sharing type, masking
    ("id_number", "公民身份号码", "id_card", "conditional", "none"),
    ("name", "姓名", "string", "conditional", "name"),
    ("gender", "性别", "enum", "unconditional", "none"),
    ("birth_date", "出生日期", "date", "conditional", "year_only"),
    ("mobile", "联系电话", "mobile", "conditional", "mobile"),
    ("address", "住址", "string", "conditional", "address"),
    ("district", "所属区县", "string", "unconditional", "none"),
    ("religion", "宗教信仰", "string", "none", "redact"),
]


@dataclass
class World:
    provider: Any
    consumer: Any
    outsider: Any
    provider_officer: Any
    consumer_officer: Any
    outsider_officer: Any
    provider_auditor: Any
    platform_auditor: Any
    dataset: Any
    fields: dict[str, Any]


def build_population_dataset(provider, code: str = "GA-RK-001"):
    return dataset_with_fields(
        provider=provider,
        code=code,
        name="人口基本信息",
        key_field="id_number",
        legal_basis="《中华人民共和国居民身份证法》第十三条",
        specs=POPULATION_FIELDS,
        category="人口",
    )


@pytest.fixture
def world(db) -> World:
    from apps.departments.services import platform_auditor_add

    provider = DepartmentFactory(code="GA", name="省公安厅")
    consumer = DepartmentFactory(code="WJ", name="省卫生健康委员会")
    outsider = DepartmentFactory(code="MZ", name="省民政厅")
    platform_auditor = UserFactory(username="platform-auditor")
    platform_auditor_add(user=platform_auditor)
    dataset, fields = build_population_dataset(provider)
    return World(
        provider=provider,
        consumer=consumer,
        outsider=outsider,
        provider_officer=officer_of(provider),
        consumer_officer=officer_of(consumer),
        outsider_officer=officer_of(outsider),
        provider_auditor=auditor_of(provider),
        platform_auditor=platform_auditor,
        dataset=dataset,
        fields=fields,
    )


@pytest.fixture
def celery_worker_live(transactional_db):
    """A real Celery worker (solo pool, in a thread) consuming this test run's own queue."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    names = set(request.fixturenames)
    return bool(names & {"transactional_db", "live_server", "celery_worker_live"})


@pytest.fixture(autouse=True)
def _audit_log_flushable(request):
    """Transactional tests are cleaned with TRUNCATE, which the audit log's append-only
    triggers refuse. Switch triggers off (replica role) just before that flush; the fixture
    depends on the database fixture so that its teardown runs first. Django closes the
    connection after the flush, so the role never outlives the test."""
    if not _is_transactional(request):
        yield
        return
    request.getfixturevalue("_django_db_helper")
    yield
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
    except Exception:  # noqa: BLE001 - a broken connection is reopened by the flush itself
        connection.close()


@pytest.fixture(autouse=True)
def _language_restored():
    """A request through the test client activates its Accept-Language for the rest of the
    thread (LocaleMiddleware does not undo it); later tests would then see another language's
    messages. Each test ends in the language it started with."""
    from django.utils import translation

    with translation.override(translation.get_language()):
        yield
