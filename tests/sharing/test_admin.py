"""The admin queue and decision pages: isolation between departments, decisions through the
same services as the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.text import capfirst

from apps.catalog.models import Field
from apps.sharing.models import DataRequest, Grant, Notification
from tests.sharing.conftest import MONDAY, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_monday")]

CHANGELIST = "admin:sharing_datarequest_changelist"


@pytest.fixture
def requests(sw):
    incoming = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    other = submit(sw.vaccination, sw.outsider, sw.outsider_officer, ["phone"])
    DataRequest.objects.filter(pk=incoming.pk).update(due_by=MONDAY.date() - dt.timedelta(days=1))
    return incoming, other


def test_officers_see_only_requests_of_their_departments(client, sw, requests):
    incoming, other = requests
    client.force_login(sw.provider_officer)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert f"/sharing/datarequest/{incoming.pk}/" in page
    assert f"/sharing/datarequest/{other.pk}/" not in page
    assert "OVERDUE" in page and "approve/" in page
    response = client.get(reverse("admin:sharing_datarequest_change", args=[other.pk]))
    assert response.status_code == 302  # not in its queryset: redirected to the index
    approve_other = reverse("admin:sharing_datarequest_approve", args=[other.pk])
    assert client.get(approve_other).status_code == 404

    client.force_login(sw.consumer_officer)  # WJ asked GA and provides WJ-YM-001 to MZ
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert f"/sharing/datarequest/{incoming.pk}/" in page
    assert f"/sharing/datarequest/{other.pk}/" in page


def test_requester_cannot_approve_its_own_request(client, sw, requests):
    incoming, _other = requests
    client.force_login(sw.consumer_officer)
    url = reverse("admin:sharing_datarequest_approve", args=[incoming.pk])
    response = client.post(url, {"fields": ["mobile"], "valid_until": "2026-06-01"})
    assert response.status_code == 403
    assert not Grant.objects.exists()


def test_provider_officer_approves_a_subset_through_the_admin(client, sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"])
    client.force_login(sw.provider_officer)
    url = reverse("admin:sharing_datarequest_approve", args=[request.pk])
    assert "mobile" in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "fields": ["name"],
            "valid_until": "2026-05-01",
            "row_filter": '{"district": "天河区"}',
            "masks": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    grant = Grant.objects.get(request=request)
    assert [i.field.name for i in grant.items.all()] == ["name"]
    assert grant.row_filter == {"district": "天河区"}


def test_approve_form_shows_service_errors(client, sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    client.force_login(sw.provider_officer)
    url = reverse("admin:sharing_datarequest_approve", args=[request.pk])
    response = client.post(
        url, {"fields": ["mobile"], "valid_until": "2026-05-01", "row_filter": '{"nope": 1}'}
    )
    assert response.status_code == 200
    assert "has no field nope" in response.content.decode()
    assert not Grant.objects.exists()


def test_reject_and_revoke_through_the_admin(client, sw):
    rejected = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    client.force_login(sw.provider_officer)
    url = reverse("admin:sharing_datarequest_reject", args=[rejected.pk])
    assert client.post(url, {"reason": ""}).status_code == 200  # reason required
    assert client.post(url, {"reason": "不符合共享条件"}).status_code == 302
    rejected.refresh_from_db()
    assert rejected.status == "rejected"

    from apps.sharing.services import request_approve

    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name"]),
        by=sw.provider_officer,
    )
    page = client.get(reverse("admin:sharing_grant_changelist")).content.decode()
    assert "revoke/" in page
    url = reverse("admin:sharing_grant_revoke", args=[grant.pk])
    assert client.post(url, {"reason": "合作结束"}).status_code == 302
    grant.refresh_from_db()
    assert grant.status == "revoked"


def test_notifications_are_private_to_their_recipient(client, sw, requests):
    client.force_login(sw.provider_officer)
    page = client.get(reverse("admin:sharing_notification_changelist")).content.decode()
    assert "New data request" in page
    client.force_login(sw.outsider_officer)
    page = client.get(reverse("admin:sharing_notification_changelist")).content.decode()
    assert "GA-RK-001" not in page
    note = Notification.objects.filter(recipient=sw.provider_officer).first()
    client.force_login(sw.provider_officer)
    page = client.get(reverse("admin:sharing_notification_change", args=[note.pk])).text
    note.refresh_from_db()
    assert note.read_at is not None
    assert f'<a href="{note.link}">Open</a>' in page  # the request it is about, one click away


def test_platform_auditor_sees_every_request_but_cannot_decide(client, sw, requests):
    incoming, other = requests
    client.force_login(sw.platform_auditor)
    page = client.get(reverse(CHANGELIST)).content.decode()
    assert f"/sharing/datarequest/{incoming.pk}/" in page
    assert f"/sharing/datarequest/{other.pk}/" in page
    assert "approve/" not in page


def test_approve_form_shows_empty_json_boxes_not_null():
    from apps.sharing.admin_forms import OptionalJSONField

    field = OptionalJSONField(required=False)
    assert field.prepare_value(None) == ""
    assert field.prepare_value({"district": "天河区"}) == '{"district": "天河区"}'


# Decision pages, links, buttons and bulk actions are offered only to who may use them
# (apps.sharing.policy); the GET of a decision page is refused like its POST.


@pytest.fixture
def grant(sw):
    from apps.sharing.services import request_approve

    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"])
    return request_approve(request=request, by=sw.provider_officer, masks={"name": "hash"})


def _decision_urls(request_pk: int, grant_pk: int) -> list[str]:
    return [
        reverse("admin:sharing_datarequest_approve", args=[request_pk]),
        reverse("admin:sharing_datarequest_reject", args=[request_pk]),
        reverse("admin:sharing_grant_revoke", args=[grant_pk]),
    ]


@pytest.mark.parametrize("who", ["consumer_officer", "provider_auditor", "platform_auditor"])
def test_decision_pages_refuse_the_get_as_they_refuse_the_post(client, sw, grant, who):
    pending = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["address"])
    client.force_login(getattr(sw, who))
    for url in _decision_urls(pending.pk, grant.pk):
        get, post = client.get(url), client.post(url, {"reason": "x"})
        assert (get.status_code, post.status_code) == (403, 403), url
        assert b'name="reason"' not in get.content and b'name="fields"' not in get.content
    pending.refresh_from_db()
    grant.refresh_from_db()
    assert (pending.status, grant.status) == ("submitted", "active")


def test_provider_officer_gets_the_decision_pages(client, sw, grant):
    pending = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["address"])
    client.force_login(sw.provider_officer)
    for url in _decision_urls(pending.pk, grant.pk):
        response = client.get(url)
        assert response.status_code == 200 and b"<form" in response.content, url


def test_grant_list_offers_revocation_to_the_provider_officer_only(client, sw, grant):
    revoke = reverse("admin:sharing_grant_revoke", args=[grant.pk])
    for who, offered in [("provider_officer", True), ("consumer_officer", False),
                         ("provider_auditor", False), ("platform_auditor", False)]:  # fmt: skip
        client.force_login(getattr(sw, who))
        page = client.get(reverse("admin:sharing_grant_changelist")).content.decode()
        assert f"/sharing/grant/{grant.pk}/" in page, who
        assert (revoke in page) == offered, who


def test_request_list_offers_decisions_and_withdrawal_by_role(client, sw, requests):
    incoming, _other = requests
    approve = reverse("admin:sharing_datarequest_approve", args=[incoming.pk])
    for who, decides, withdraws in [("provider_officer", True, True),
                                    ("consumer_officer", False, True),
                                    ("provider_auditor", False, False),
                                    ("platform_auditor", False, False)]:  # fmt: skip
        client.force_login(getattr(sw, who))
        page = client.get(reverse(CHANGELIST)).content.decode()
        assert (approve in page) == decides, who
        assert ('value="withdraw_selected"' in page) == withdraws, who


def test_bulk_withdrawal_by_an_auditor_is_not_an_available_action(client, sw, requests):
    incoming, _other = requests
    client.force_login(sw.provider_auditor)
    response = client.post(
        reverse(CHANGELIST), {"action": "withdraw_selected", "_selected_action": [incoming.pk]}
    )
    assert response.status_code in (200, 302)
    incoming.refresh_from_db()
    assert incoming.status == "submitted"


def test_bulk_withdrawal_reports_requests_the_officer_may_not_withdraw(client, sw, requests):
    incoming, other = requests  # WJ asked for `incoming` and provides the data of `other`
    client.force_login(sw.consumer_officer)
    response = client.post(
        reverse(CHANGELIST),
        {"action": "withdraw_selected", "_selected_action": [incoming.pk, other.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert f"#{other.pk}: Only data officers of {sw.outsider.name} may do this." in page
    assert "1 request(s) withdrawn." in page
    incoming.refresh_from_db()
    other.refresh_from_db()
    assert (incoming.status, other.status) == ("withdrawn", "submitted")


@pytest.mark.parametrize(
    ("direction", "sees_incoming", "sees_other"),
    [("incoming", False, True), ("outgoing", True, False), (None, True, True)],
)
def test_request_list_filters_by_direction(client, sw, requests, direction, sees_incoming,
                                           sees_other):  # fmt: skip
    incoming, other = requests  # as WJ: `incoming` is asked by WJ, `other` is asked of WJ
    client.force_login(sw.consumer_officer)
    query = {"direction": direction} if direction else {}
    page = client.get(reverse(CHANGELIST), query).content.decode()
    assert (f"/sharing/datarequest/{incoming.pk}/" in page) == sees_incoming
    assert (f"/sharing/datarequest/{other.pk}/" in page) == sees_other


def test_grant_list_filters_grants_provided_and_received_by_my_department(client, sw, grant):
    from apps.sharing.services import request_approve

    received = request_approve(
        request=submit(sw.vaccination, sw.outsider, sw.outsider_officer, ["phone"]),
        by=sw.consumer_officer,
    )  # WJ provides this one to MZ
    client.force_login(sw.consumer_officer)
    url = reverse("admin:sharing_grant_changelist")
    page = client.get(url).content.decode()
    assert "Provided by my department" in page and "Received by my department" in page
    provided = client.get(url, {"direction": "incoming"}).content.decode()
    assert f"/sharing/grant/{received.pk}/" in provided
    assert f"/sharing/grant/{grant.pk}/" not in provided
    got = client.get(url, {"direction": "outgoing"}).content.decode()
    assert f"/sharing/grant/{grant.pk}/" in got
    assert f"/sharing/grant/{received.pk}/" not in got


def test_direction_filter_is_not_offered_to_viewers_without_a_department(client, sw, grant):
    client.force_login(sw.platform_auditor)
    for name in (CHANGELIST, "admin:sharing_grant_changelist"):
        page = client.get(reverse(name)).content.decode()
        assert "?direction=" not in page, name


# Detail pages: readable inlines and the decisions offered there.


def test_request_detail_offers_approve_and_reject_to_the_provider_officer_while_pending(client, sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    url = reverse("admin:sharing_datarequest_change", args=[request.pk])
    approve = reverse("admin:sharing_datarequest_approve", args=[request.pk])
    reject = reverse("admin:sharing_datarequest_reject", args=[request.pk])
    client.force_login(sw.provider_officer)
    page = client.get(url).content.decode()
    assert f'href="{approve}"' in page and f'href="{reject}"' in page
    assert f"/datarequest/{request.pk}/history/" not in page  # Django's is always empty
    for who in ("consumer_officer", "provider_auditor", "platform_auditor"):
        client.force_login(getattr(sw, who))
        page = client.get(url).content.decode()
        assert approve not in page and reject not in page, who

    from apps.sharing.services import request_approve

    request_approve(request=request, by=sw.provider_officer)
    client.force_login(sw.provider_officer)
    page = client.get(url).content.decode()
    assert approve not in page and reject not in page


def test_grant_detail_offers_revocation_to_the_provider_officer_only(client, sw, grant):
    url = reverse("admin:sharing_grant_change", args=[grant.pk])
    revoke = reverse("admin:sharing_grant_revoke", args=[grant.pk])
    client.force_login(sw.provider_officer)
    assert f'href="{revoke}"' in client.get(url).content.decode()
    client.force_login(sw.consumer_officer)
    assert revoke not in client.get(url).content.decode()


def test_request_detail_lists_fields_by_name_label_and_masking_and_history_by_state(
    client, sw, grant
):
    client.force_login(sw.provider_officer)
    page = client.get(
        reverse("admin:sharing_datarequest_change", args=[grant.request_id])
    ).content.decode()
    label = capfirst(Field._meta.get_field("label").verbose_name)
    for header in ("<th class=\"column-field_name\">Field</th>",
                   f"<th class=\"column-label_shown\">{label}</th>",
                   "<th class=\"column-field_masking\">Masking rule</th>"):  # fmt: skip
        assert header in page
    assert "<p>mobile</p>" in page and "<p>联系电话</p>" in page and "<p>name</p>" in page
    assert f"#{grant.request_id} {sw.fields['mobile'].pk}" not in page  # no id row titles
    assert "<p>Submitted</p>" in page and "<p>Approved</p>" in page
    assert "<p>submitted</p>" not in page and "∅" not in page


def test_request_detail_headers_are_translated(client, sw, grant):
    client.force_login(sw.provider_officer)
    url = reverse("admin:sharing_datarequest_change", args=[grant.request_id])
    page = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    assert '<th class="column-field_name">信息项</th>' in page
    with translation.override("zh-hans"):
        label = capfirst(Field._meta.get_field("label").verbose_name)
    assert f'<th class="column-label_shown">{label}</th>' in page
    assert "<p>已提交</p>" in page


def test_grant_detail_lists_fields_by_name_label_and_masking(client, sw, grant):
    from apps.catalog.models import MaskingChoices

    masks = dict(MaskingChoices.choices)
    client.force_login(sw.consumer_officer)
    page = client.get(reverse("admin:sharing_grant_change", args=[grant.pk])).content.decode()
    assert "<p>mobile</p>" in page and "<p>联系电话</p>" in page
    assert "<p>name</p>" in page and "<p>姓名</p>" in page
    assert f"<p>{masks['mobile']}</p>" in page  # the declared mask of `mobile`
    assert f"<p>{masks['hash']}</p>" in page  # the stricter mask imposed on `name`
    assert f"grant {grant.pk} field" not in page


def test_approving_an_approved_request_shows_the_error_once(client, sw, grant):
    client.force_login(sw.provider_officer)
    url = reverse("admin:sharing_datarequest_approve", args=[grant.request_id])
    response = client.post(url, {"fields": ["mobile"], "valid_until": "2026-05-01"}, follow=True)
    assert response.redirect_chain[-1][0].endswith(f"/datarequest/{grant.request_id}/change/")
    assert response.content.decode().count("there is nothing left to decide") == 1


def test_the_approve_form_explains_stricter_masks_in_the_users_language(client, sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    client.force_login(sw.provider_officer)
    url = reverse("admin:sharing_datarequest_approve", args=[request.pk])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "可用规则" in page and "Rules:" not in page


def test_decisions_in_the_admin_name_the_officer_and_the_page_request_in_the_audit_log(client, sw):
    from apps.audit.models import AuditEvent

    pending = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    client.force_login(sw.provider_officer)
    call = {"HTTP_X_REQUEST_ID": "admin-approve-1", "REMOTE_ADDR": "198.51.100.4"}
    url = reverse("admin:sharing_datarequest_approve", args=[pending.pk])
    response = client.post(
        url, {"fields": ["mobile"], "valid_until": pending.valid_until.isoformat()}, **call
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="request.approve")
    assert (event.request_id, event.client_ip) == ("admin-approve-1", "198.51.100.4")
    assert event.user_id == sw.provider_officer.pk


def test_decision_pages_of_a_decided_request_send_back_to_it(client, sw):
    from apps.sharing.services import request_approve

    decided = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    grant = request_approve(request=decided, by=sw.provider_officer)
    client.force_login(sw.provider_officer)
    page = reverse("admin:sharing_datarequest_change", args=[decided.pk])
    for action in ("approve", "reject"):
        response = client.get(reverse(f"admin:sharing_datarequest_{action}", args=[decided.pk]))
        assert response.status_code == 302 and response["Location"] == page
    followed = client.get(page)
    assert "there is nothing left to decide" in followed.text
    client.post(reverse("admin:sharing_grant_revoke", args=[grant.pk]), {"reason": "合作结束"})
    response = client.get(reverse("admin:sharing_grant_revoke", args=[grant.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:sharing_grant_change", args=[grant.pk])


def test_the_requester_withdraws_from_the_requests_page(client, sw):
    from apps.audit.models import AuditEvent

    pending = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    withdraw = reverse("admin:sharing_datarequest_withdraw", args=[pending.pk])
    client.force_login(sw.provider_officer)
    assert (
        withdraw
        not in client.get(reverse("admin:sharing_datarequest_change", args=[pending.pk])).text
    )
    assert client.get(withdraw).status_code == 403
    client.force_login(sw.consumer_officer)
    assert (
        withdraw in client.get(reverse("admin:sharing_datarequest_change", args=[pending.pk])).text
    )
    assert client.post(withdraw, {"reason": "需求变更"}).status_code == 302
    pending.refresh_from_db()
    assert pending.status == "withdrawn"
    assert AuditEvent.objects.get(action="request.withdraw").details["reason"] == "需求变更"
    assert client.get(withdraw).status_code == 302  # nothing left to withdraw


def test_the_grant_list_shows_the_last_day_the_grant_holds(client, sw):
    from django.utils.formats import date_format

    from apps.sharing.services import request_approve

    until = MONDAY.date() + dt.timedelta(days=30)
    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        by=sw.provider_officer,
        valid_until=until,
    )
    client.force_login(sw.consumer_officer)
    page = client.get(reverse("admin:sharing_grant_changelist")).text
    assert f'<td class="field-last_day nowrap">{date_format(until)}</td>' in page
    assert grant.valid_until.date() == until + dt.timedelta(days=1)  # stored: next midnight


def test_withdrawing_is_not_offered_on_the_list_of_requests_to_us(client, sw, requests):
    client.force_login(sw.provider_officer)
    url = reverse("admin:sharing_datarequest_changelist")
    assert "withdraw_selected" not in client.get(url + "?direction=incoming").text
    assert "withdraw_selected" in client.get(url + "?direction=outgoing").text


def test_the_grant_page_shows_one_end_date_and_the_rows_covered_in_words(client, sw):
    from apps.sharing.services import request_approve

    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        by=sw.provider_officer,
        row_filter={"district__in": ["天河区", "越秀区"]},
    )
    client.force_login(sw.consumer_officer)
    page = client.get(reverse("admin:sharing_grant_change", args=[grant.pk])).text
    assert "Valid through" in page and "Valid until" not in page
    assert "district ∈ 天河区, 越秀区" in page and "district__in" not in page


def test_the_request_page_links_its_grant_and_says_which_rows_it_covers(client, sw):
    from apps.sharing.services import request_approve

    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    url = reverse("admin:sharing_datarequest_change", args=[request.pk])
    client.force_login(sw.consumer_officer)
    assert "district ∈" not in client.get(url).text
    grant = request_approve(
        request=request, by=sw.provider_officer, row_filter={"district": "天河区"}
    )
    page = client.get(url).text
    assert reverse("admin:sharing_grant_change", args=[grant.pk]) in page
    assert "district = 天河区" in page
