"""The migrations that keep a field's name, label and granted masking rule on the rows naming it
fill them in for the rows written before: from the catalogue, and for a field already taken away
from a grant, from the version published before the one that took it away."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import DatasetFactory, DepartmentFactory, FieldFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("flushable")]

BEFORE = [("sharing", "0004_notification_message"), ("objections", "0001_initial")]
T0 = timezone.make_aware(dt.datetime(2026, 3, 2, 9, 0))


def _field_spec(name: str, sharing: str, masking: str) -> dict:
    return {"name": name, "label": name, "sharing_type": sharing, "masking": masking}


def _write_old_rows(apps, *, dataset, consumer, fields) -> dict:
    Version = apps.get_model("catalog", "DatasetVersion")
    User = apps.get_model("auth", "User")
    officer = User.objects.create(username="officer-old")
    for version, at, mobile in ((1, T0, "mobile"), (2, T0 + dt.timedelta(days=2), "redact")):
        Version.objects.create(
            dataset_id=dataset.pk,
            version=version,
            snapshot={
                "fields": [
                    _field_spec("name", "conditional", "name"),
                    _field_spec("mobile", "conditional", mobile),
                ]
            },  # fmt: skip
            reason="调整",
            published_by=officer,
            published_at=at,
        )
    Request = apps.get_model("sharing", "DataRequest")
    request = Request.objects.create(
        consumer_id=consumer.pk, dataset_id=dataset.pk, purpose="核验", legal_basis="条例",
        valid_until=T0.date() + dt.timedelta(days=90), status="approved",
        due_by=T0.date() + dt.timedelta(days=14), created_at=T0,
    )  # fmt: skip
    for field in fields.values():
        apps.get_model("sharing", "DataRequestField").objects.create(
            request=request, field_id=field.pk
        )
    grant = apps.get_model("sharing", "Grant").objects.create(
        request=request, consumer_id=consumer.pk, dataset_id=dataset.pk, valid_from=T0,
        valid_until=T0 + dt.timedelta(days=90), created_at=T0,
    )  # fmt: skip
    GrantField = apps.get_model("sharing", "GrantField")
    GrantField.objects.create(grant=grant, field_id=fields["name"].pk, mask_override="hash")
    # Taken away at the second publication, which made it `none` and redacted.
    GrantField.objects.create(
        grant=grant,
        field_id=fields["mobile"].pk,
        removed_at=T0 + dt.timedelta(days=2, seconds=1),
        removed_reason="Field mobile is no longer shared",
    )
    objection = apps.get_model("objections", "Objection").objects.create(
        dataset_id=dataset.pk, record_key="440106199001011234", description="姓名有误",
        consumer_id=consumer.pk, status="open", due_by=T0.date(), created_at=T0, updated_at=T0,
    )  # fmt: skip
    apps.get_model("objections", "ObjectionField").objects.create(
        objection=objection, field_id=fields["name"].pk, mask="name"
    )
    return {"request": request.pk, "grant": grant.pk, "objection": objection.pk}


def test_existing_rows_get_the_fields_name_label_and_the_rule_they_were_granted_under():
    provider, consumer = DepartmentFactory(code="GA"), DepartmentFactory(code="WJ")
    dataset = DatasetFactory(provider=provider, code="GA-RK-001")
    fields = {
        "name": FieldFactory(dataset=dataset, name="name", label="姓名", masking="name",
                             sharing_type="conditional", legal_basis="条例"),
        "mobile": FieldFactory(dataset=dataset, name="mobile", label="联系电话", masking="redact",
                               sharing_type="none", legal_basis="条例"),
    }  # fmt: skip
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        ids = _write_old_rows(old, dataset=dataset, consumer=consumer, fields=fields)
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(
            executor.loader.graph.leaf_nodes("sharing")
            + executor.loader.graph.leaf_nodes("objections")
        )

    from apps.objections.models import ObjectionField
    from apps.sharing.models import DataRequestField, GrantField

    requested = DataRequestField.objects.filter(request_id=ids["request"])
    assert sorted(requested.values_list("field_name", "field_label")) == [
        ("mobile", "联系电话"),
        ("name", "姓名"),
    ]
    granted = {
        i.field_name: (i.field_label, i.field_masking)
        for i in GrantField.objects.filter(grant_id=ids["grant"])
    }
    # `mobile` was read masked as a mobile number until taken away; it is redacted only now.
    assert granted == {"name": ("姓名", "name"), "mobile": ("联系电话", "mobile")}
    item = ObjectionField.objects.get(objection_id=ids["objection"])
    assert (item.field_name, item.field_label) == ("name", "姓名")
