"""Submitting, approving, rejecting and withdrawing requests; revocation and provider-side field
changes; the history that cannot be edited; notifications and audit events."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction

from apps.audit.models import AuditEvent
from apps.catalog.models import FieldGroupObjectPermission
from apps.sharing.models import DataRequest, Grant, Notification, RequestTransition
from apps.sharing.services import (
    InvalidTransition,
    grant_revoke,
    grants_apply_field_change,
    request_approve,
    request_reject,
    request_withdraw,
)
from tests.sharing.conftest import MONDAY, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_monday")]


def _perm_field_names(department) -> set[str]:
    return set(
        FieldGroupObjectPermission.objects.filter(group=department.group).values_list(
            "content_object__name", flat=True
        )
    )


def test_submit_sets_due_date_history_and_notifies_provider_officers(
    sw, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"])
    assert request.status == "submitted"
    assert request.due_by == dt.date(2026, 3, 16)  # Monday + 10 working days
    assert sorted(request.fields.values_list("name", flat=True)) == ["mobile", "name"]
    [entry] = request.transitions.all()
    assert (entry.from_status, entry.to_status, entry.actor) == (
        "",
        "submitted",
        sw.consumer_officer,
    )
    assert Notification.objects.filter(recipient=sw.provider_officer).count() == 1
    assert [m.to for m in mail.outbox] == [[sw.provider_officer.email]]


def test_submit_refuses_none_fields_showing_their_legal_basis(sw):
    with pytest.raises(ValidationError) as exc:
        submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "religion"])
    assert "religion" in str(exc.value) and "《政务数据共享条例》" in str(exc.value)
    assert not DataRequest.objects.exists()


def test_submit_refuses_unconditional_fields_as_needing_no_request(sw):
    with pytest.raises(ValidationError, match="gender.*without a request"):
        submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "gender"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fields": ["nope"]}, "Unknown fields"),
        ({"fields": []}, "at least one field"),
        ({"days": 0}, "after today"),
        ({"purpose": "  "}, "purpose"),
    ],
)
def test_submit_rejects_bad_input_naming_it(sw, kwargs, message):
    fields = kwargs.pop("fields", ["mobile"])
    with pytest.raises(ValidationError, match=message):
        submit(sw.dataset, sw.consumer, sw.consumer_officer, fields, **kwargs)


def test_submit_refuses_own_data_and_other_departments_officers(sw):
    with pytest.raises(ValidationError, match="own data"):
        submit(sw.dataset, sw.provider, sw.provider_officer, ["mobile"])
    with pytest.raises(PermissionDenied):
        submit(sw.dataset, sw.consumer, sw.outsider_officer, ["mobile"])


def test_approve_grants_permissions_on_exactly_the_approved_fields(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name", "address"])
    grant = request_approve(
        request=request,
        by=sw.provider_officer,
        fields=["mobile", "address"],
        valid_until=MONDAY.date() + dt.timedelta(days=30),
        row_filter={"district": "天河区"},
    )
    request.refresh_from_db()
    assert request.status == "approved" and request.decided_by == sw.provider_officer
    assert _perm_field_names(sw.consumer) == {"mobile", "address"}
    assert _perm_field_names(sw.outsider) == set()
    assert grant.row_filter == {"district": "天河区"}
    assert grant.valid_until.date() == MONDAY.date() + dt.timedelta(days=31)  # end of that day
    assert [t.to_status for t in request.transitions.all()] == ["submitted", "approved"]
    event = AuditEvent.objects.get(action="request.approve")
    assert event.target == f"request:{request.pk}"
    assert Notification.objects.filter(recipient=sw.consumer_officer).count() == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fields": ["id_number"]}, "Not requested"),
        ({"valid_until": MONDAY.date() + dt.timedelta(days=400)}, "outlast"),
        ({"row_filter": {"nope": 1}}, "has no field nope"),
        ({"row_filter": {"district__regex": ".*"}}, "unknown lookup"),
        ({"row_filter": {"district__in": "天河区"}}, "non-empty list"),
        ({"masks": {"mobile": "none"}}, "weaker"),
        ({"masks": {"mobile": "bogus"}}, "unknown masking rule"),
        # A filter on a field not read in clear would reveal its value on every row returned.
        ({"row_filter": {"religion": "x"}}, "religion is not"),  # never shared
        ({"row_filter": {"mobile__contains": "138"}}, "mobile is not"),  # granted, masked
        ({"row_filter": {"name": "张三"}}, "name is not"),  # conditional, not in this grant
        # Values that cannot be compared with the field: refused now, not failing every read.
        ({"row_filter": {"district": True}}, "district holds text"),
        ({"row_filter": {"district__in": ["天河区", 5]}}, "district holds text"),
    ],
)
def test_approve_rejects_bad_input_and_grants_nothing(sw, kwargs, message):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    with pytest.raises(ValidationError, match=message):
        request_approve(request=request, by=sw.provider_officer, **kwargs)
    assert not Grant.objects.exists()
    assert _perm_field_names(sw.consumer) == set()


def test_a_row_filter_may_use_fields_read_in_clear(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "id_number"])
    grant = request_approve(
        request=request,
        by=sw.provider_officer,
        row_filter={"district": "天河区", "id_number__gte": "44"},  # unconditional; granted
    )
    assert grant.row_filter == {"district": "天河区", "id_number__gte": "44"}


def test_a_row_filter_on_a_field_masked_by_the_grant_is_refused(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["id_number"])
    with pytest.raises(ValidationError, match="id_number is not"):
        request_approve(
            request=request,
            by=sw.provider_officer,
            masks={"id_number": "hash"},
            row_filter={"id_number__gte": "44"},
        )


def test_only_provider_officers_decide(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    for user in (sw.consumer_officer, sw.outsider_officer, sw.provider_auditor):
        with pytest.raises(PermissionDenied):
            request_approve(request=request, by=user)
        with pytest.raises(PermissionDenied):
            request_reject(request=request, by=user, reason="x")


def test_reject_requires_a_reason_and_is_final(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    with pytest.raises(ValidationError, match="reasons"):
        request_reject(request=request, by=sw.provider_officer, reason=" ")
    request_reject(request=request, by=sw.provider_officer, reason="用途与职责无关")
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("rejected", "用途与职责无关")
    with pytest.raises(InvalidTransition):
        request_approve(request=request, by=sw.provider_officer)
    assert AuditEvent.objects.filter(action="request.reject").count() == 1


def test_withdraw_only_pending_requests_by_the_requester(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    with pytest.raises(PermissionDenied):
        request_withdraw(request=request, by=sw.provider_officer)
    request_withdraw(request=request, by=sw.consumer_officer, reason="不再需要")
    request.refresh_from_db()
    assert request.status == "withdrawn"
    with pytest.raises(InvalidTransition):
        request_withdraw(request=request, by=sw.consumer_officer)


def test_revoke_removes_permissions_and_notifies_the_holder(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    grant = request_approve(request=request, by=sw.provider_officer)
    with pytest.raises(ValidationError):
        grant_revoke(grant=grant, by=sw.provider_officer, reason="")
    with pytest.raises(PermissionDenied):
        grant_revoke(grant=grant, by=sw.consumer_officer, reason="x")
    grant_revoke(grant=grant, by=sw.provider_officer, reason="发现违规使用")
    grant.refresh_from_db()
    request.refresh_from_db()
    assert (grant.status, request.status, grant.revoked_reason) == (
        "revoked",
        "revoked",
        "发现违规使用",
    )
    assert _perm_field_names(sw.consumer) == set()
    assert Notification.objects.filter(recipient=sw.consumer_officer, subject__contains="revoked")
    with pytest.raises(InvalidTransition):
        grant_revoke(grant=grant, by=sw.provider_officer, reason="again")


def test_revoking_one_of_two_grants_keeps_the_permission_the_other_still_backs(sw):
    first = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"]),
        by=sw.provider_officer,
    )
    request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        by=sw.provider_officer,
    )
    grant_revoke(grant=first, by=sw.provider_officer, reason="合并授权")
    assert _perm_field_names(sw.consumer) == {"mobile"}


def test_field_change_narrows_or_ends_grants_with_reason(sw):
    wide = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"]),
        by=sw.provider_officer,
    )
    narrow = request_approve(
        request=submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"]),
        by=sw.provider_officer,
    )
    affected = grants_apply_field_change(
        field=sw.fields["mobile"],
        previous_sharing_type="conditional",
        new_sharing_type=None,
        by=sw.provider_officer,
        reason="信息项停止采集",
    )
    assert affected == 2
    wide.refresh_from_db()
    narrow.refresh_from_db()
    assert wide.status == "active" and narrow.status == "revoked"
    assert "信息项停止采集" in narrow.revoked_reason
    assert _perm_field_names(sw.consumer) == {"name"}
    assert _perm_field_names(sw.outsider) == set()
    assert wide.request.transitions.last().reason.startswith("Field mobile was removed")
    assert AuditEvent.objects.filter(action="grant.narrow").count() == 1
    assert Notification.objects.filter(recipient=sw.consumer_officer, subject__contains="narrowed")


def test_field_becoming_conditional_affects_no_grant(sw):
    assert (
        grants_apply_field_change(
            field=sw.fields["gender"],
            previous_sharing_type="unconditional",
            new_sharing_type="conditional",
            by=sw.provider_officer,
            reason="x",
        )
        == 0
    )


def test_history_is_append_only_in_the_database(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    entry = request.transitions.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        RequestTransition.objects.filter(pk=entry.pk).update(reason="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        RequestTransition.objects.filter(pk=entry.pk).delete()
    assert RequestTransition.objects.get(pk=entry.pk).reason == "健康码核验"


def _agency(department, name: str = "wj-app"):
    from apps.api.services import application_create

    agency, _secret = application_create(department=department, name=name, scopes="requests")
    return agency


def test_an_application_submits_and_withdraws_for_its_department(sw):
    from apps.common import clock
    from apps.sharing.submission import request_submit

    agency = _agency(sw.consumer)
    request = request_submit(
        consumer=sw.consumer,
        dataset=sw.dataset,
        fields=["mobile"],
        purpose="健康码核验",
        legal_basis="《突发公共卫生事件应急条例》",
        valid_until=clock.today() + dt.timedelta(days=30),
        agency=agency,
    )
    app_id = agency.application_id
    assert request.created_by is None and request.created_by_application_id == app_id
    assert request.transitions.get().actor_label == f"application:{app_id}"
    with pytest.raises(PermissionDenied, match="Only data officers or applications of"):
        request_withdraw(request=request, agency=_agency(sw.outsider, "mz-app"))
    request_withdraw(request=request, agency=agency)
    request.refresh_from_db()
    assert request.status == "withdrawn"
    with pytest.raises(PermissionDenied):
        request_withdraw(request=request)


def test_an_application_cannot_submit_for_another_department(sw):
    from apps.common import clock
    from apps.sharing.submission import request_submit

    with pytest.raises(PermissionDenied, match="Only data officers or applications of"):
        request_submit(
            consumer=sw.consumer,
            dataset=sw.dataset,
            fields=["mobile"],
            purpose="健康码核验",
            legal_basis="《突发公共卫生事件应急条例》",
            valid_until=clock.today() + dt.timedelta(days=30),
            agency=_agency(sw.outsider, "mz-app"),
        )
    assert not DataRequest.objects.exists()


def test_revocation_notice_labels_the_reason(sw):
    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        by=sw.provider_officer,
    )
    grant_revoke(grant=grant, by=sw.provider_officer, reason="发现违规使用")
    note = Notification.objects.get(recipient=sw.consumer_officer, subject__contains="revoked")
    assert note.body.endswith("of 人口基本信息 granted by this grant. Reason: 发现违规使用")


def test_a_notification_is_shown_in_the_readers_language_not_the_senders(sw, settings):
    from django.utils import translation

    with translation.override("en"):  # the provider's officer works in English
        grant = request_approve(
            request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
            by=sw.provider_officer,
        )
    note = Notification.objects.get(recipient=sw.consumer_officer)
    assert note.subject == f"Request #{grant.request_id} approved"  # platform language here
    with translation.override("zh-hans"):
        assert note.subject_text == f"申请 #{grant.request_id} 已批准"
        assert note.body_text.startswith("省公安厅 已批准 人口基本信息 的 联系电话（mobile）")
    with translation.override("en"):
        assert note.subject_text == note.subject


# Every sharing decision is an admin audit event that names the provider, the consumer, the
# dataset and the fields concerned (name -> masking rule) in its searchable attributes.


def _event(action: str, target: str) -> AuditEvent:
    return AuditEvent.objects.get(action=action, body__contains=f'"target":"{target}"')


def _sides(event: AuditEvent) -> tuple:
    return (event.kind, event.provider_id, event.consumer_id, event.dataset_id,
            event.provider_code, event.consumer_code, event.dataset_code)  # fmt: skip


def _expected(sw, consumer=None) -> tuple:
    consumer = consumer or sw.consumer
    return ("admin", sw.provider.pk, consumer.pk, sw.dataset.pk, "GA", consumer.code,
            "GA-RK-001")  # fmt: skip


def test_submit_is_audited_with_requested_fields_and_declared_masks(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name", "mobile"])
    event = _event("request.submit", f"request:{request.pk}")
    assert _sides(event) == _expected(sw)
    assert event.fields == {"name": "name", "mobile": "mobile"}
    assert event.user_id == sw.consumer_officer.pk
    assert event.details["purpose"] == "健康码核验"
    assert event.details["due_by"] == "2026-03-16"


def test_submit_by_an_application_is_audited_with_the_application_and_the_call(sw):
    from apps.audit.services import RequestOrigin
    from apps.common import clock
    from apps.sharing.submission import request_submit

    agency = _agency(sw.consumer)
    request = request_submit(
        consumer=sw.consumer,
        dataset=sw.dataset,
        fields=["address"],
        purpose="低保核验",
        legal_basis="《社会救助暂行办法》",
        valid_until=clock.today() + dt.timedelta(days=30),
        agency=agency,
        origin=RequestOrigin(request_id="req-submit-1", client_ip="10.1.2.3"),
    )
    event = _event("request.submit", f"request:{request.pk}")
    assert _sides(event) == _expected(sw) and event.user_id is None
    assert (event.application_id, event.application_name) == (agency.application_id, "wj-app")
    assert (event.request_id, event.client_ip) == ("req-submit-1", "10.1.2.3")
    assert event.details["application"] == agency.application_id
    assert event.fields == {"address": "address"}


def test_a_decision_outside_the_api_names_no_application_nor_call(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    event = _event("request.submit", f"request:{request.pk}")
    assert event.user_id == sw.consumer_officer.pk
    assert (event.application_id, event.application_name) == (None, "")
    assert event.request_id == "" and not event.client_ip


def test_approval_is_audited_with_the_approved_fields_and_their_masks(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name", "address"])
    grant = request_approve(
        request=request, by=sw.provider_officer, fields=["name", "address"], masks={"name": "hash"}
    )
    event = _event("request.approve", f"request:{request.pk}")
    assert _sides(event) == _expected(sw)
    assert event.fields == {"name": "hash", "address": "address"}
    assert event.details["grant"] == grant.pk and event.details["partial"] is True


def test_rejection_and_withdrawal_are_audited_with_the_requested_fields(sw):
    rejected = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_reject(request=rejected, by=sw.provider_officer, reason="用途不明确")
    withdrawn = submit(sw.dataset, sw.outsider, sw.outsider_officer, ["birth_date"])
    request_withdraw(request=withdrawn, by=sw.outsider_officer, reason="不再需要")

    event = _event("request.reject", f"request:{rejected.pk}")
    assert _sides(event) == _expected(sw) and event.fields == {"mobile": "mobile"}
    assert event.details["reason"] == "用途不明确"
    event = _event("request.withdraw", f"request:{withdrawn.pk}")
    assert _sides(event) == _expected(sw, sw.outsider)
    assert event.fields == {"birth_date": "year_only"}
    assert event.user_id == sw.outsider_officer.pk


def test_revocation_is_audited_with_the_fields_the_holder_loses(sw):
    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"]),
        by=sw.provider_officer,
        masks={"mobile": "redact"},
    )
    grant_revoke(grant=grant, by=sw.provider_officer, reason="发现违规使用")
    event = _event("grant.revoke", f"grant:{grant.pk}")
    assert _sides(event) == _expected(sw)
    assert event.fields == {"name": "name", "mobile": "redact"}
    assert event.details == {"request": grant.request_id, "reason": "发现违规使用"}


def test_field_change_events_name_the_field_taken_away(sw):
    wide = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"]),
        by=sw.provider_officer,
    )
    narrow = request_approve(
        request=submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"]),
        by=sw.provider_officer,
    )
    grants_apply_field_change(
        field=sw.fields["mobile"],
        previous_sharing_type="conditional",
        new_sharing_type="none",
        by=sw.provider_officer,
        reason="不再共享",
    )
    narrowed = _event("grant.narrow", f"grant:{wide.pk}")
    assert _sides(narrowed) == _expected(sw) and narrowed.fields == {"mobile": "mobile"}
    ended = _event("grant.revoke", f"grant:{narrow.pk}")
    assert _sides(ended) == _expected(sw, sw.outsider) and ended.fields == {"mobile": "mobile"}


def test_decisions_are_found_by_the_auditors_dataset_and_consumer_searches(sw):
    from apps.audit.selectors import EventFilters, events_search

    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_approve(request=request, by=sw.provider_officer)
    submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"])
    found = events_search(
        user=sw.provider_auditor,
        filters=EventFilters(dataset="GA-RK-001", consumer="WJ", kind="admin"),
    )
    assert sorted(found.values_list("action", flat=True)) == ["request.approve", "request.submit"]
    by_field = events_search(
        user=sw.platform_auditor, filters=EventFilters(field="mobile", kind="admin")
    )
    assert by_field.count() == 3


def test_the_consumers_auditor_sees_the_decisions_about_its_department(sw):
    from apps.audit.selectors import EventFilters, events_search
    from tests.factories import auditor_of

    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_approve(request=request, by=sw.provider_officer)
    found = events_search(user=auditor_of(sw.consumer), filters=EventFilters(kind="admin"))
    actions = set(found.values_list("action", flat=True))
    assert {"request.submit", "request.approve"} <= actions


def test_the_provider_is_told_when_a_request_is_withdrawn(sw):
    from apps.sharing.services import request_withdraw

    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_withdraw(request=request, by=sw.consumer_officer, reason="需求取消")
    note = Notification.objects.get(recipient=sw.provider_officer, subject__contains="withdrawn")
    assert note.body.endswith("需求取消") and note.link.endswith(f"/{request.pk}/change/")


def test_the_decisions_on_a_request_carry_its_purpose_for_the_auditors_search(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"], purpose="低保复核")
    grant = request_approve(request=request, by=sw.provider_officer)
    grant_revoke(grant=grant, by=sw.provider_officer, reason="合作结束")
    purposes = dict(
        AuditEvent.objects.filter(
            action__in=["request.submit", "request.approve", "grant.revoke"]
        ).values_list("action", "body")
    )
    assert all('"purpose":"低保复核"' in body for body in purposes.values()) and len(purposes) == 3


def test_a_row_filter_value_of_the_wrong_type_is_refused_naming_the_field(sw):
    from tests.factories import FieldFactory

    FieldFactory(dataset=sw.dataset, name="dose", data_type="integer", sharing_type="unconditional")
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    with pytest.raises(ValidationError, match="dose__gte: The value given for “dose”"):
        request_approve(request=request, by=sw.provider_officer, row_filter={"dose__gte": "abc"})
    grant = request_approve(request=request, by=sw.provider_officer, row_filter={"dose__gte": 2})
    assert grant.row_filter == {"dose__gte": 2}


def test_the_approval_notice_says_which_rows_a_filtered_grant_covers(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_approve(request=request, by=sw.provider_officer, row_filter={"district": "天河区"})
    note = Notification.objects.get(recipient=sw.consumer_officer, subject__contains="approved")
    assert note.body.endswith("on the rows where district = 天河区 only.")
    assert "联系电话（mobile）" in note.body


def test_the_approval_and_revocation_notices_link_to_the_grants_admin_page(sw):
    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        by=sw.provider_officer,
    )
    grant_revoke(grant=grant, by=sw.provider_officer, reason="到期")
    notes = Notification.objects.filter(recipient=sw.consumer_officer).order_by("pk")
    assert [n.link for n in notes] == [f"/admin/sharing/grant/{grant.pk}/change/"] * 2
