"""Submitting, answering and withdrawing objections: who may, what is checked, what it leaves."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.objections.models import Objection
from apps.objections.services import ObjectionClosed, objection_answer, objection_withdraw
from apps.sharing.models import Holiday, Notification
from tests.factories import DatasetFactory, FieldFactory, UserFactory
from tests.objections.conftest import KEY, grant, report
from tests.records.rows import ROWS

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("monday")]


def test_a_granted_consumer_reports_a_record_and_the_provider_officers_are_told(ow):
    objection = report(ow, fields=["name", "gender"])
    assert objection.status == "open" and objection.record_key == KEY
    assert objection.created_by == ow.consumer_officer
    assert objection.created_by_application_id is None
    # Masks as the reporter reads them: name is masked, gender is unconditional and clear.
    masks = {i.field.name: i.mask for i in objection.items.select_related("field")}
    assert masks == {"name": "name", "gender": "none"}
    note = Notification.objects.get(recipient=ow.provider_officer)
    assert f"#{objection.pk}" in note.subject and "GA-RK-001" in note.subject
    assert note.link == f"/admin/objections/objection/{objection.pk}/change/"
    assert not Notification.objects.filter(recipient=ow.consumer_officer).exists()


def test_the_answer_is_due_ten_working_days_later_skipping_holidays(ow):
    assert report(ow).due_by == dt.date(2026, 3, 16)  # Monday + 10 working days
    Holiday.objects.create(date=dt.date(2026, 3, 4), kind="holiday", name="调休")
    assert report(ow).due_by == dt.date(2026, 3, 17)


def test_a_department_that_cannot_read_the_key_in_clear_cannot_report(ow):
    # MZ reads gender and district (unconditional) but not id_number, the key.
    with pytest.raises(PermissionDenied, match="key field"):
        report(ow, consumer=ow.outsider, by=ow.outsider_officer, fields=["gender"])
    assert not Objection.objects.exists()


def test_fields_the_reporter_may_not_read_are_refused(ow):
    with pytest.raises(PermissionDenied, match="address"):
        report(ow, fields=["name", "address"])
    with pytest.raises(PermissionDenied, match="religion"):
        report(ow, fields=["religion"])
    assert not Objection.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"fields": []}, "fields", "at least one field"),
        ({"fields": ["nope"]}, "fields", "Unknown fields of GA-RK-001: nope"),
        ({"description": "  "}, "description", "Describe what is wrong"),
        ({"description": "x" * 2001}, "description", "At most 2000 characters"),
        ({"proposed_value": "x" * 1001}, "proposed_value", "At most 1000 characters"),
        ({"key": ""}, "key", "Give the record's key"),
    ],
)
def test_bad_input_is_refused_naming_the_field(ow, overrides, field, message):
    with pytest.raises(ValidationError) as caught:
        report(ow, **overrides)
    assert message in " ".join(caught.value.message_dict[field])


def test_an_unknown_key_is_refused_with_a_clear_error(ow):
    with pytest.raises(ValidationError) as caught:
        report(ow, key="440106199001019999")
    assert caught.value.message_dict["key"] == [
        "No published record of GA-RK-001 that your department may read has this key."
    ]
    assert not Objection.objects.exists()


def test_a_key_outside_the_grants_row_filter_is_refused_like_an_unknown_one(ow):
    grant(ow, ow.outsider, ow.outsider_officer, ["id_number"], row_filter={"district": "天河区"})
    tianhe, yuexiu = ROWS[0]["id_number"], ROWS[1]["id_number"]
    as_mz = {"consumer": ow.outsider, "by": ow.outsider_officer, "fields": ["id_number"]}
    assert report(ow, key=tianhe, **as_mz).pk
    with pytest.raises(ValidationError, match="No published record"):
        report(ow, key=yuexiu, **as_mz)


def test_a_key_is_normalised_as_a_lookup_takes_it(ow):
    full_width = KEY.translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    objection = report(ow, key=f" {full_width} ")
    assert objection.record_key == KEY


def test_a_field_readable_on_other_rows_only_cannot_be_objected_to_on_this_one(ow):
    grant(ow, ow.outsider, ow.outsider_officer, ["id_number"])
    grant(ow, ow.outsider, ow.outsider_officer, ["name"], row_filter={"district": "天河区"})
    yuexiu = ROWS[1]["id_number"]
    as_mz = {"consumer": ow.outsider, "by": ow.outsider_officer}
    with pytest.raises(ValidationError, match="No published record"):
        report(ow, key=yuexiu, fields=["name"], **as_mz)
    assert report(ow, key=yuexiu, fields=["gender"], **as_mz).pk


def test_a_dataset_whose_records_were_never_loaded_has_no_key_to_object_to(ow):
    dataset = DatasetFactory(
        code="MZ-OPEN", provider=ow.outsider, sharing_type="unconditional", key_field="code"
    )
    FieldFactory(dataset=dataset, name="code", sharing_type="unconditional", masking="none")
    with pytest.raises(ValidationError, match="No published record of MZ-OPEN"):
        report(ow, dataset=dataset, key="A1", fields=["code"])


def test_the_provider_does_not_object_to_its_own_data(ow):
    with pytest.raises(ValidationError, match="its own data"):
        report(ow, consumer=ow.provider, by=ow.provider_officer)


@pytest.mark.parametrize("who", ["provider_officer", "outsider_officer", "provider_auditor"])
def test_only_officers_of_the_reporting_department_submit_for_it(ow, who):
    with pytest.raises(PermissionDenied):
        report(ow, by=getattr(ow, who))


def test_an_application_reports_for_its_own_department_only(ow):
    from apps.api.services import application_create

    agency, _secret = application_create(department=ow.consumer, name="wj-app", scopes="requests")
    objection = report(ow, agency=agency)
    assert objection.created_by is None
    assert objection.created_by_application_id == agency.application_id
    assert objection.transitions.get().actor_label == f"application:{agency.application_id}"
    with pytest.raises(PermissionDenied):
        report(ow, agency=agency, consumer=ow.outsider)


def test_the_provider_officer_answers_and_the_reporter_is_told(ow):
    objection = report(ow)
    Notification.objects.all().delete()
    answered = objection_answer(
        objection=objection, by=ow.provider_officer, outcome="corrected", answer="已更正姓名"
    )
    answered.refresh_from_db()
    assert (answered.status, answered.outcome, answered.answer) == (
        "answered",
        "corrected",
        "已更正姓名",
    )
    assert answered.answered_by == ow.provider_officer and answered.answered_at is not None
    [note] = Notification.objects.all()
    assert note.recipient == ow.consumer_officer
    assert f"#{objection.pk}" in note.subject and "Corrected" in note.subject


def test_an_answer_requires_its_text_and_a_known_outcome(ow):
    objection = report(ow)
    with pytest.raises(ValidationError) as caught:
        objection_answer(
            objection=objection, by=ow.provider_officer, outcome="confirmed", answer=" "
        )
    assert "what was checked" in caught.value.message_dict["answer"][0]
    with pytest.raises(ValidationError) as caught:
        objection_answer(objection=objection, by=ow.provider_officer, outcome="maybe", answer="x")
    assert "outcome" in caught.value.message_dict
    objection.refresh_from_db()
    assert objection.status == "open"


@pytest.mark.parametrize("who", ["consumer_officer", "outsider_officer", "provider_auditor"])
def test_only_the_provider_answers(ow, who):
    objection = report(ow)
    with pytest.raises(PermissionDenied):
        objection_answer(objection=objection, by=getattr(ow, who), outcome="confirmed", answer="x")


def test_a_platform_administrator_does_not_answer_for_the_provider(ow):
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    with pytest.raises(PermissionDenied):
        objection_answer(objection=report(ow), by=admin, outcome="confirmed", answer="核实无误")


def test_the_providers_application_answers(ow):
    from apps.api.services import application_create

    agency, _secret = application_create(department=ow.provider, name="ga-app", scopes="requests")
    objection = objection_answer(
        objection=report(ow), agency=agency, outcome="confirmed", answer="核实无误"
    )
    assert objection.answered_by is None
    assert objection.answered_by_application_id == agency.application_id


def test_the_reporter_withdraws_and_the_provider_is_told(ow):
    objection = report(ow)
    Notification.objects.all().delete()
    objection_withdraw(objection=objection, by=ow.consumer_officer, reason="误报")
    objection.refresh_from_db()
    assert objection.status == "withdrawn" and objection.withdrawn_at is not None
    [note] = Notification.objects.all()
    assert note.recipient == ow.provider_officer and "withdrawn" in note.subject


@pytest.mark.parametrize("who", ["provider_officer", "outsider_officer", "provider_auditor"])
def test_only_the_reporter_withdraws(ow, who):
    objection = report(ow)
    with pytest.raises(PermissionDenied):
        objection_withdraw(objection=objection, by=getattr(ow, who))


def test_an_answered_objection_is_final(ow):
    objection = report(ow)
    objection_answer(
        objection=objection, by=ow.provider_officer, outcome="confirmed", answer="无误"
    )
    with pytest.raises(ObjectionClosed):
        objection_answer(
            objection=objection, by=ow.provider_officer, outcome="corrected", answer="改"
        )
    with pytest.raises(ObjectionClosed):
        objection_withdraw(objection=objection, by=ow.consumer_officer)
    objection.refresh_from_db()
    assert (objection.status, objection.outcome) == ("answered", "confirmed")
