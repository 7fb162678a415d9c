"""A department's code stored before the code rules (`ex4ui a`) or mistyped is corrected by the
platform admin: only to a code in the format and free ignoring case, after confirming what does
not follow the change (hash-masked values, the old code in systems and in the audit log), with
the acting group renamed and an audit event naming both codes."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from apps.audit.models import AuditEvent
from apps.departments.models import Department
from apps.departments.services import (
    CODE_CHANGE_ACTION,
    department_code_change,
    department_create,
)
from tests.factories import UserFactory, auditor_of

pytestmark = pytest.mark.django_db

FORMAT_HINT = "GZ-TH-MZ"  # in the format error's message


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def legacy(db) -> Department:
    """As the demo world held it: stored before codes were checked, with its acting group."""
    group = Group.objects.create(name="dept:ex4ui a")
    return Department.objects.create(code="ex4ui a", name="界面测试局", group=group)


def _code_changes(department: Department) -> list[dict]:
    events = AuditEvent.objects.filter(action=CODE_CHANGE_ACTION, provider_id=department.pk)
    return [e.details | {"user_id": e.user_id} for e in events.order_by("seq")]


# The service.


def test_a_legacy_code_is_corrected_with_its_group_and_an_audit_event(legacy, root):
    department_code_change(department=legacy, code="EX4UI-A", by=root)
    legacy.refresh_from_db()
    assert legacy.code == "EX4UI-A" and legacy.group.name == "dept:EX4UI-A"
    assert _code_changes(legacy) == [
        {"old_code": "ex4ui a", "new_code": "EX4UI-A", "user_id": root.pk}
    ]


@pytest.mark.parametrize("code", ["ex4ui b", "EX4UI_A", "-A", ""])
def test_a_code_outside_the_format_is_refused(legacy, root, code):
    with pytest.raises(ValidationError) as exc:
        department_code_change(department=legacy, code=code, by=root)
    assert "code" in exc.value.message_dict
    assert Department.objects.get(pk=legacy.pk).code == "ex4ui a"
    assert _code_changes(legacy) == []


def test_another_departments_code_is_refused_whatever_its_case(legacy, root):
    department_create(code="GD-WJ", name="卫健委")
    with pytest.raises(ValidationError) as exc:
        department_code_change(department=legacy, code="gd-wj".upper(), by=root)
    assert "GD-WJ" in exc.value.message_dict["code"][0]
    assert Department.objects.get(pk=legacy.pk).code == "ex4ui a"


def test_a_code_whose_group_name_another_group_holds_is_refused(legacy, root):
    Group.objects.create(name="dept:EX4UI-A")  # e.g. the group a deleted department left
    with pytest.raises(ValidationError) as exc:
        department_code_change(department=legacy, code="EX4UI-A", by=root)
    assert "dept:EX4UI-A" in exc.value.message_dict["code"][0]
    legacy.refresh_from_db()
    assert legacy.code == "ex4ui a" and legacy.group.name == "dept:ex4ui a"
    assert _code_changes(legacy) == []


def test_a_departments_own_code_may_change_case(root):
    department = Department.objects.create(
        code="ex4ui-a", name="小写", group=Group.objects.create(name="dept:ex4ui-a")
    )
    department_code_change(department=department, code="EX4UI-A", by=root)
    assert Department.objects.get(pk=department.pk).code == "EX4UI-A"


# The admin's change form.


def _change_url(department: Department) -> str:
    return reverse("admin:departments_department_change", args=[department.pk])


def _post(client, department: Department, **values):
    data = {"code": department.code, "name": department.name, "level": department.level,
            "region": "", "email": "", "parent": "", "memberships-TOTAL_FORMS": 0,
            "memberships-INITIAL_FORMS": 0, **values}  # fmt: skip
    return client.post(_change_url(department), data)


def test_the_change_form_offers_the_code_with_the_consequences(client, root, legacy):
    client.force_login(root)
    page = client.get(_change_url(legacy)).content.decode()
    assert 'name="code"' in page and 'value="ex4ui a"' in page
    assert "was stored before the code rules" in page
    assert "“hash” rule" in page and "hash-chained" in page
    assert 'name="confirm_code_change"' in page


def test_a_valid_code_is_not_called_stale(client, root):
    department = department_create(code="GD-WJ", name="卫健委")
    client.force_login(root)
    page = client.get(_change_url(department)).content.decode()
    assert "“hash” rule" in page and "was stored before the code rules" not in page


def test_the_form_shows_the_format_error_on_the_code(client, root, legacy):
    client.force_login(root)
    response = _post(client, legacy, code="EX4UI A", confirm_code_change="on")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert FORMAT_HINT in errors["code"][0]
    assert FORMAT_HINT in response.content.decode()
    assert Department.objects.get(pk=legacy.pk).code == "ex4ui a"


def test_the_form_refuses_a_case_only_duplicate_on_the_code(client, root, legacy):
    department_create(code="EX4UI-A", name="已有")
    client.force_login(root)
    response = _post(client, legacy, code="EX4UI-A", confirm_code_change="on")
    assert "EX4UI-A" in response.context["adminform"].form.errors["code"][0]
    assert Department.objects.get(pk=legacy.pk).code == "ex4ui a"


def test_changing_the_code_needs_the_confirmation(client, root, legacy):
    client.force_login(root)
    response = _post(client, legacy, code="EX4UI-A")
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["confirm_code_change"]
    assert Department.objects.get(pk=legacy.pk).code == "ex4ui a"
    assert _code_changes(legacy) == []


def test_a_confirmed_change_saves_the_code_and_the_rest_and_is_audited(client, root, legacy):
    client.force_login(root)
    response = _post(
        client, legacy, code="EX4UI-A", name="界面测试局（更正）", confirm_code_change="on"
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    legacy.refresh_from_db()
    assert (legacy.code, legacy.name) == ("EX4UI-A", "界面测试局（更正）")
    assert legacy.group.name == "dept:EX4UI-A"
    assert _code_changes(legacy) == [
        {"old_code": "ex4ui a", "new_code": "EX4UI-A", "user_id": root.pk}
    ]


def test_other_changes_need_no_confirmation_and_record_no_code_change(client, root):
    department = department_create(code="GD-WJ", name="卫健委")
    client.force_login(root)
    assert _post(client, department, name="省卫生健康委员会").status_code == 302
    department.refresh_from_db()
    assert (department.code, department.name) == ("GD-WJ", "省卫生健康委员会")
    assert _code_changes(department) == []


def test_a_legacy_code_must_be_corrected_before_the_page_saves(client, root, legacy):
    client.force_login(root)
    response = _post(client, legacy, name="改名")
    assert response.status_code == 200 and FORMAT_HINT in response.content.decode()
    assert Department.objects.get(pk=legacy.pk).name == "界面测试局"


def test_an_auditor_sees_the_code_read_only_and_cannot_change_it(client, legacy):
    auditor = auditor_of(department_create(code="GD-SJ", name="审计厅"))
    client.force_login(auditor)
    page = client.get(_change_url(legacy)).content.decode()
    assert "ex4ui a" in page and 'name="code"' not in page
    assert 'name="confirm_code_change"' not in page
    response = _post(client, legacy, code="EX4UI-A", confirm_code_change="on")
    assert response.status_code == 403
    assert Department.objects.get(pk=legacy.pk).code == "ex4ui a"


def _confirm_box(page: str) -> str:
    [box] = re.findall(r'<input[^>]*name="confirm_code_change"[^>]*>', page)
    return box


def test_a_refused_change_shows_the_confirmation_unticked_so_the_next_code_is_confirmed_anew(
    client, root, legacy
):
    department_create(code="EX4UI-A", name="已有")
    client.force_login(root)
    refused = _post(client, legacy, code="EX4UI-A", confirm_code_change="on")
    assert refused.status_code == 200
    assert " checked" not in _confirm_box(refused.content.decode())
    # The page as shown, resubmitted with another code: the box was not ticked again.
    response = _post(client, legacy, code="EX4UI-B")
    assert response.context["adminform"].form.errors["confirm_code_change"]
    assert Department.objects.get(pk=legacy.pk).code == "ex4ui a"


def test_the_confirmation_is_never_restored_by_the_browser(client, root, legacy):
    client.force_login(root)
    box = _confirm_box(client.get(_change_url(legacy)).content.decode())
    assert " checked" not in box and 'autocomplete="off"' in box
