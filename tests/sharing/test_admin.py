"""The admin queue and decision pages: isolation between departments, decisions through the
same services as the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

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
    client.get(reverse("admin:sharing_notification_change", args=[note.pk]))
    note.refresh_from_db()
    assert note.read_at is not None


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
