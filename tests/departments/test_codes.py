"""Department master data that cannot be undone (departments are never deleted) is checked on
the way in: the code's format, its uniqueness whatever the case, and the level hierarchy."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from apps.departments.models import Department
from apps.departments.services import department_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("code", ["GD-WJ", "GZ-TH-MZ", "GD-SCJG", "GA", "D001", "P10"])
def test_the_platforms_codes_fit_the_format(code):
    assert department_create(code=code, name="部门").code == code


@pytest.mark.parametrize(
    "code", ["ex4ui a", "ex4ui-A", "gd-wj", "GD_WJ", "GD--WJ", "-GD", "GD-", "GD WJ", "GD.WJ"]
)
def test_a_code_outside_the_format_is_refused(code):
    with pytest.raises(ValidationError) as exc:
        department_create(code=code, name="部门")
    assert "code" in exc.value.message_dict
    assert not Department.objects.exists()


def _group(name: str) -> int:
    from django.contrib.auth.models import Group

    return Group.objects.create(name=f"test:{name}").pk


def _legacy(code: str) -> Department:
    """A department stored before codes were checked (the format is not a database rule)."""
    return Department.objects.create(code=code, name=code, group_id=_group(code))


def test_a_code_differing_only_in_case_from_a_stored_one_is_refused_on_the_code_field(db):
    _legacy("old-lower")
    with pytest.raises(ValidationError) as exc:
        department_create(code="OLD-LOWER", name="丙")
    assert "old-lower" in exc.value.message_dict["code"][0]
    assert not Department.objects.filter(code="OLD-LOWER").exists()


def test_the_database_refuses_a_case_only_duplicate_whatever_writes_it(db):
    department_create(code="EX4UI-A", name="甲")
    with pytest.raises(IntegrityError), transaction.atomic():
        Department.objects.create(code="ex4ui-A", name="乙", group_id=_group("dup"))


@pytest.mark.parametrize(
    ("parent_level", "level", "allowed"),
    [
        ("province", "city", True),
        ("province", "district", True),
        ("city", "district", True),
        ("city", "city", True),
        ("district", "city", False),
        ("district", "province", False),
        ("city", "province", False),
    ],
)
def test_a_parent_is_at_its_childs_level_or_above(parent_level, level, allowed):
    parent = department_create(code="PARENT", name="上级", level=parent_level)
    if allowed:
        assert department_create(code="CHILD", name="下级", parent=parent, level=level)
        return
    with pytest.raises(ValidationError) as exc:
        department_create(code="CHILD", name="下级", parent=parent, level=level)
    assert "parent" in exc.value.message_dict


def test_lowering_a_departments_level_below_its_children_is_refused(db):
    province = department_create(code="GD-MZ", name="民政厅", level="province")
    department_create(code="GZ-MZ", name="广州市民政局", parent=province, level="city")
    province.level = "district"
    with pytest.raises(ValidationError) as exc:
        province.full_clean()
    assert "GZ-MZ" in exc.value.message_dict["level"][0]


# The admin form says what is wrong, beside the field.


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _add(client, **values):
    data = {"code": "", "name": "部门", "level": "province", "region": "", "email": "",
            "parent": "", "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0,
            **values}  # fmt: skip
    return client.post(reverse("admin:departments_department_add"), data)


def test_the_add_form_shows_the_format_error_on_the_code(admin_client):
    response = _add(admin_client, code="ex4ui a")
    assert response.status_code == 200
    assert "code" in response.context["adminform"].form.errors
    assert "GZ-TH-MZ" in response.content.decode()  # the message shows the expected form
    assert not Department.objects.exists()


def test_the_add_form_refuses_a_case_only_duplicate_on_the_code(admin_client):
    _legacy("ex4ui-a")
    response = _add(admin_client, code="EX4UI-A")
    assert response.context["adminform"].form.errors["code"]
    assert Department.objects.count() == 1


def test_the_add_form_refuses_a_city_under_a_district(admin_client):
    district = department_create(code="GZ-TH-MZ", name="天河区民政局", level="district")
    response = _add(admin_client, code="EX4UI-A", level="city", parent=district.pk)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"]
    assert not Department.objects.filter(code="EX4UI-A").exists()


def test_the_change_form_refuses_a_level_below_a_child(admin_client):
    parent = department_create(code="GD-MZ", name="民政厅", level="province")
    department_create(code="GZ-MZ", name="广州市民政局", parent=parent, level="city")
    response = admin_client.post(
        reverse("admin:departments_department_change", args=[parent.pk]),
        {"name": "民政厅", "level": "district", "region": "", "email": "", "parent": "",
         "memberships-TOTAL_FORMS": 0, "memberships-INITIAL_FORMS": 0},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["level"]
    parent.refresh_from_db()
    assert parent.level == "province"


# The migration, on a database holding what was accepted before.


@pytest.mark.django_db(transaction=True)
def test_the_migration_renames_case_only_duplicates_keeping_the_oldest_code():
    executor = MigrationExecutor(connection)
    executor.migrate([("departments", "0001_initial")])
    try:
        old = executor.loader.project_state([("departments", "0001_initial")]).apps
        Group, Old = old.get_model("auth", "Group"), old.get_model("departments", "Department")
        for code in ("EX4UI-A", "ex4ui-A", "ex4ui a", "GD-WJ"):
            Old.objects.create(
                code=code, name=code, group=Group.objects.create(name=f"dept:{code}")
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes("departments"))
    codes = dict(Department.objects.values_list("name", "code"))
    younger = Department.objects.get(name="ex4ui-A")
    assert codes == {
        "EX4UI-A": "EX4UI-A",  # the older keeps its code
        "ex4ui-A": f"EX4UI-A-DUP{younger.pk}",
        "ex4ui a": "ex4ui a",  # no clash: left as it is (corrected in the admin: test_code_change)
        "GD-WJ": "GD-WJ",
    }
    assert younger.group.name == f"dept:EX4UI-A-DUP{younger.pk}"
    with pytest.raises(ValidationError):
        department_create(code="EX4UI-A-DUP" + str(younger.pk), name="again")
