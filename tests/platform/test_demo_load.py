"""`manage.py demo_load`: the demo world is complete, its records valid, and a second load
changes nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from psycopg2 import sql
from stdnum.cn import ric, uscc

from apps.catalog.models import Dataset, DatasetVersion, Field
from apps.departments.models import Department, Membership
from apps.records import store

pytestmark = pytest.mark.django_db

SCALE = "0.01"


def _load(tmp_path) -> str:
    out = io.StringIO()
    call_command(
        "demo_load", "--scale", SCALE, "--credentials", str(tmp_path / "creds.json"), stdout=out
    )
    return out.getvalue()


def _state() -> dict:
    from apps.api.models import AgencyApplication
    from apps.sharing.models import DataRequest, Grant

    return {
        "departments": list(Department.objects.values_list("code", "parent__code", "level")),
        "users": list(get_user_model().objects.order_by("pk").values_list("username", "password")),
        "memberships": Membership.objects.count(),
        "datasets": list(Dataset.objects.values_list("code", "version", "status", "updated_at")),
        "versions": DatasetVersion.objects.count(),
        "fields": Field.objects.count(),
        "requests": DataRequest.objects.count(),
        "grants": list(Grant.objects.values_list("pk", "status")),
        "applications": list(
            AgencyApplication.objects.values_list("pk", "application__client_secret")
        ),
        "records": {d.code: store.store_count(d) for d in Dataset.objects.all()},
        "otp_devices": list(TOTPDevice.objects.values_list("pk", "key")),
    }


def test_demo_world_has_the_departments_users_and_datasets_the_issue_asks_for(tmp_path):
    _load(tmp_path)
    names = set(Department.objects.values_list("name", flat=True))
    for part in ("公安", "卫生健康", "民政", "市场监督管理", "人力资源和社会保障"):
        assert any(part in name for name in names), part
    assert set(Department.objects.values_list("level", flat=True)) == {
        "province",
        "city",
        "district",
    }
    district = Department.objects.get(level="district")
    assert district.parent.level == "city" and district.parent.parent.level == "province"
    assert all(
        Membership.objects.filter(department=d, role="officer").exists()
        for d in Department.objects.all()
    )
    assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    assert Membership.objects.filter(role="auditor").exists()
    assert Dataset.objects.filter(status="published").count() >= 8
    assert set(Dataset.objects.values_list("sharing_type", flat=True)) == {
        "unconditional",
        "conditional",
        "none",
    }
    assert len(set(Field.objects.values_list("masking", flat=True))) >= 7


def test_records_are_loaded_through_the_store_with_valid_identifiers(tmp_path):
    _load(tmp_path)
    population = Dataset.objects.get(code="GA-RK-001")
    enterprise = Dataset.objects.get(code="SCJG-QY-001")
    assert store.store_count(population) >= 20
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("SELECT id_number FROM {}").format(store.ident(store.live_table(population.pk)))
        )
        assert all(ric.is_valid(row[0]) for row in cursor.fetchall())
        cursor.execute(
            sql.SQL("SELECT credit_code FROM {}").format(
                store.ident(store.live_table(enterprise.pk))
            )
        )
        assert all(uscc.is_valid(row[0]) for row in cursor.fetchall())


def test_grants_and_applications_are_created_and_credentials_written(tmp_path):
    from apps.api.models import AgencyApplication
    from apps.sharing.models import Grant

    output = _load(tmp_path)
    assert Grant.objects.filter(status="active").count() == 2
    data = json.loads((tmp_path / "creds.json").read_text(encoding="utf-8"))
    assert data["url"].endswith("/admin/") and data["api_docs"].endswith("/api/docs/")
    assert {u["username"] for u in data["logins"]} >= {"admin", "platform-auditor", "auditor-gd-ga"}
    assert len(data["applications"]) == AgencyApplication.objects.count() == 3
    for app in data["applications"]:
        assert app["client_secret"] in output
        agency = AgencyApplication.objects.get(application__client_id=app["client_id"])
        assert agency.department.code == app["department"]


def test_a_second_load_changes_nothing(tmp_path):
    _load(tmp_path)
    before = _state()
    credentials = (tmp_path / "creds.json").read_bytes()
    output = _load(tmp_path)
    assert "nothing changed" in output
    assert _state() == before
    assert (tmp_path / "creds.json").read_bytes() == credentials


def test_an_application_whose_secret_was_lost_gets_a_new_one_that_is_saved(tmp_path):
    _load(tmp_path)
    path = tmp_path / "creds.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    lost = data["applications"][0]
    data["applications"] = data["applications"][1:]
    path.write_text(json.dumps(data), encoding="utf-8")
    _load(tmp_path)
    again = json.loads(path.read_text(encoding="utf-8"))
    renewed = next(a for a in again["applications"] if a["client_id"] == lost["client_id"])
    assert renewed["client_secret"] and renewed["client_secret"] != lost["client_secret"]


def test_a_demo_officer_signs_in_to_the_admin_with_the_password_and_current_code(
    tmp_path, settings
):
    _load(tmp_path)
    settings.GOVDATA = {**settings.GOVDATA, "REQUIRE_OTP": True}
    out = io.StringIO()
    call_command("demo_otp", "officer-gd-ga", stdout=out)
    code = out.getvalue().split()[0]
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "officer-gd-ga", "password": "GovData-Demo-2026", "otp_token": code},
    )
    assert response.status_code == 302, response.content[:500]
    assert client.get("/admin/").status_code == 200
