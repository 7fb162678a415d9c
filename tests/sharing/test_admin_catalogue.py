"""The responsibility list of every department in the admin: what the viewer's department may
read of each dataset, and requests submitted from it through the same service as the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.catalog.models import Dataset
from apps.common import clock
from apps.sharing.models import DataRequest
from apps.sharing.services import request_approve
from tests.factories import DatasetFactory, FieldFactory
from tests.sharing.conftest import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_monday")]

LIST = "admin:sharing_publisheddataset_changelist"


def _detail(dataset) -> str:
    return reverse("admin:sharing_publisheddataset_change", args=[dataset.pk])


def _request_form(dataset) -> str:
    return reverse("admin:sharing_publisheddataset_request", args=[dataset.pk])


def _form_data(**overrides) -> dict:
    return {
        "fields": ["name", "mobile"],
        "purpose": "健康码核验",
        "legal_basis": "《突发公共卫生事件应急条例》",
        "valid_until": (clock.today() + dt.timedelta(days=90)).isoformat(),
        **overrides,
    }


def test_a_consuming_officer_sees_every_published_dataset_with_its_own_access(client, sw):
    DatasetFactory(provider=sw.outsider, code="MZ-DRAFT", status=Dataset.Status.DRAFT)
    client.force_login(sw.consumer_officer)
    page = client.get(reverse(LIST)).content.decode()
    assert "GA-RK-001" in page and "WJ-YM-001" in page and "MZ-DRAFT" not in page
    # GA-RK-001: gender and district are unconditional, five fields need a request.
    assert "2 of 8 fields readable (0 masked) · 5 requestable" in page
    assert "Your department&#x27;s dataset" in page  # WJ-YM-001 is WJ's own


def test_the_access_shown_follows_grants_and_pending_requests(client, sw):
    granted = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name", "mobile"])
    request_approve(request=granted, by=sw.provider_officer)
    pending = submit(sw.vaccination, sw.outsider, sw.outsider_officer, ["phone"])
    client.force_login(sw.consumer_officer)
    assert "4 of 8 fields readable (2 masked) · 3 requestable" in client.get(reverse(LIST)).text
    client.force_login(sw.outsider_officer)
    assert f"request #{pending.pk} pending" in client.get(reverse(LIST)).text


def test_the_list_takes_the_same_queries_whatever_the_number_of_datasets(
    client, sw, django_assert_num_queries
):
    client.force_login(sw.consumer_officer)
    with CaptureQueriesContext(connection) as first:
        assert client.get(reverse(LIST)).status_code == 200
    for _ in range(4):
        dataset = DatasetFactory(provider=sw.outsider)
        FieldFactory(dataset=dataset, name="id_number")
    with django_assert_num_queries(len(first)):
        page = client.get(reverse(LIST)).text
    assert page.count("/sharing/publisheddataset/") >= 6


def test_the_detail_shows_each_fields_access_and_offers_a_request(client, sw):
    client.force_login(sw.consumer_officer)
    page = client.get(_detail(sw.dataset)).text
    assert "Readable in clear" in page  # gender, district
    assert page.count("Needs an approved request") == 5
    assert "Not shared" in page  # religion
    assert _request_form(sw.dataset) in page


def test_a_granted_field_shows_its_mask(client, sw):
    granted = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_approve(request=granted, by=sw.provider_officer)
    client.force_login(sw.consumer_officer)
    page = client.get(_detail(sw.dataset)).text
    assert "Readable, masked: " in page
    assert f'href="/admin/sharing/datarequest/{granted.pk}/change/"' in page


@pytest.mark.parametrize("who", ["provider_officer", "provider_auditor", "platform_auditor"])
def test_no_request_is_offered_to_the_owner_nor_to_auditors(client, sw, who):
    client.force_login(getattr(sw, who))
    response = client.get(_detail(sw.dataset))
    assert response.status_code == 200
    assert _request_form(sw.dataset) not in response.text


def test_no_second_request_is_offered_while_one_is_pending(client, sw):
    pending = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    client.force_login(sw.consumer_officer)
    page = client.get(_detail(sw.dataset)).text
    assert _request_form(sw.dataset) not in page
    # Posted anyway (a stale page): the service's refusal names the pending request.
    response = client.post(_request_form(sw.dataset), _form_data())
    assert response.status_code == 200
    assert f"Request #{pending.pk} of" in response.text
    assert DataRequest.objects.filter(consumer=sw.consumer).count() == 1


def test_the_form_offers_only_conditional_fields(client, sw):
    client.force_login(sw.consumer_officer)
    form = client.get(_request_form(sw.dataset)).context["form"]
    assert [name for name, _label in form.fields["fields"].choices] == [
        "id_number", "name", "birth_date", "mobile", "address",
    ]  # fmt: skip
    response = client.post(_request_form(sw.dataset), _form_data(fields=["gender"]))
    assert response.status_code == 200 and response.context["form"].errors["fields"]


def test_a_submitted_request_goes_through_the_service_and_is_audited_with_its_origin(client, sw):
    client.force_login(sw.consumer_officer)
    response = client.post(
        _request_form(sw.dataset), _form_data(), HTTP_X_REQUEST_ID="admin-submit-1"
    )
    created = DataRequest.objects.get(consumer=sw.consumer, dataset=sw.dataset)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:sharing_datarequest_change", args=[created.pk])
    assert (
        created.status == DataRequest.Status.SUBMITTED and created.created_by == sw.consumer_officer
    )
    assert sorted(created.fields.values_list("name", flat=True)) == ["mobile", "name"]
    event = AuditEvent.objects.get(action="request.submit")
    assert (event.request_id, event.client_ip) == ("admin-submit-1", "127.0.0.1")
    assert event.consumer_id == sw.consumer.pk and event.user_id == sw.consumer_officer.pk


def test_the_services_refusals_are_shown_beside_their_fields(client, sw):
    client.force_login(sw.consumer_officer)
    past = (clock.today() - dt.timedelta(days=1)).isoformat()
    response = client.post(_request_form(sw.dataset), _form_data(valid_until=past))
    assert response.context["form"].errors == {"valid_until": ["The end date must be after today."]}
    response = client.post(_request_form(sw.dataset), _form_data(purpose=" "))
    assert list(response.context["form"].errors) == ["purpose"]
    assert not DataRequest.objects.exists()


@pytest.mark.parametrize("who", ["provider_auditor", "platform_auditor"])
def test_auditors_may_not_open_the_request_form(client, sw, who):
    client.force_login(getattr(sw, who))
    assert client.get(_request_form(sw.vaccination)).status_code == 403
    assert client.post(_request_form(sw.vaccination), _form_data()).status_code == 403
    assert not DataRequest.objects.exists()


def test_the_owner_is_sent_back_from_the_request_form(client, sw):
    client.force_login(sw.provider_officer)
    response = client.get(_request_form(sw.dataset))
    assert response.status_code == 302 and response["Location"] == _detail(sw.dataset)


def test_an_unpublished_dataset_is_not_found(client, sw):
    draft = DatasetFactory(provider=sw.outsider, status=Dataset.Status.DRAFT)
    client.force_login(sw.consumer_officer)
    assert client.get(_detail(draft)).status_code == 404
    assert client.get(_request_form(draft)).status_code == 404


def test_the_requests_list_links_to_the_responsibility_list_for_those_who_may_request(client, sw):
    link = "Request data from the responsibility list"
    client.force_login(sw.consumer_officer)
    assert link in client.get(reverse("admin:sharing_datarequest_changelist")).text
    client.force_login(sw.platform_auditor)
    assert link not in client.get(reverse("admin:sharing_datarequest_changelist")).text


def test_a_viewer_of_several_departments_chooses_whose_access_is_shown(client, sw):
    from apps.departments.models import Membership

    Membership.objects.create(
        user=sw.consumer_officer, department=sw.outsider, role=Membership.Role.OFFICER
    )
    client.force_login(sw.consumer_officer)
    mine = client.get(_detail(sw.vaccination) + "?department=WJ").text
    assert "Your department provides this dataset." in mine
    theirs = client.get(_detail(sw.vaccination) + "?department=MZ").text
    assert "Your department provides this dataset." not in theirs
    assert _request_form(sw.vaccination) + "?department=MZ" in theirs


def test_a_field_readable_on_some_rows_only_says_on_which(client, sw):
    granted = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_approve(
        request=granted, by=sw.provider_officer, row_filter={"district__in": ["天河区", "越秀区"]}
    )
    client.force_login(sw.consumer_officer)
    page = client.get(_detail(sw.dataset)).text
    assert "on rows where district ∈ 天河区, 越秀区 only (empty elsewhere)" in page
