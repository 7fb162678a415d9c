"""The API test world: the base world plus records, one application per department, a live
grant for the consumer and an expired one for a fourth department, and a client per role."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from oauth2_provider.models import AccessToken
from rest_framework.test import APIClient

from apps.api.services import application_create
from apps.common import clock
from apps.records.store import store_ensure_table, store_replace_rows
from apps.sharing.services import request_approve
from apps.sharing.submission import request_submit
from tests.factories import DepartmentFactory, officer_of
from tests.records.test_query import ROWS

GRANTED = ["id_number", "name", "birth_date", "mobile"]
SECRET_VALUES = ["秘密信仰"]  # religion: never shared
PURPOSE = {"HTTP_X_PURPOSE": "核酸检测结果比对", "HTTP_X_CASE_ID": "CASE-1"}
ROLES = ["owner", "granted", "no_grant", "expired", "auditor", "anonymous"]


@dataclass
class ApiWorld:
    base: Any
    expired_dept: Any
    clients: dict[str, APIClient]
    request_id: int


def _grant(world, consumer, officer, fields, until):
    req = request_submit(
        consumer=consumer,
        dataset=world.dataset,
        fields=fields,
        purpose="疫情防控",
        legal_basis="《传染病防治法》",
        valid_until=until,
        by=officer,
    )
    request_approve(request=req, by=world.provider_officer)
    return req


def app_client(department, scopes: str = "read requests") -> APIClient:
    agency, _secret = application_create(
        department=department, name=f"app-{department.code}", scopes="read requests"
    )
    token = AccessToken.objects.create(
        application=agency.application,
        token=f"tok-{department.code}-{agency.pk}",
        expires=clock.now() + dt.timedelta(days=3650),
        scope=scopes,
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    return client


@pytest.fixture
def api_world(world) -> ApiWorld:
    store_ensure_table(world.dataset)
    store_replace_rows(world.dataset, ROWS)
    expired_dept = DepartmentFactory(code="EX", name="已过期部门")
    expired_officer = officer_of(expired_dept)
    today = clock.today()
    req = _grant(world, world.consumer, world.consumer_officer, GRANTED, today + dt.timedelta(30))
    _grant(world, expired_dept, expired_officer, GRANTED, today + dt.timedelta(1))
    auditor = APIClient()
    auditor.force_login(world.provider_auditor)
    clients = {
        "owner": app_client(world.provider),
        "granted": app_client(world.consumer),
        "no_grant": app_client(world.outsider),
        "expired": app_client(expired_dept),
        "auditor": auditor,
        "anonymous": APIClient(),
    }
    return ApiWorld(base=world, expired_dept=expired_dept, clients=clients, request_id=req.pk)


@pytest.fixture
def later(api_world):
    """Two days on: the EX grant has expired, the WJ grant has not."""
    import time_machine

    with time_machine.travel(clock.now() + dt.timedelta(days=2, hours=1), tick=False):
        api_world.clients["auditor"].force_login(api_world.base.provider_auditor)
        yield
