"""What the request, grant and notification pages show each viewer: list filters naming only
what the viewer may see, related objects linked only where the viewer may open them, dates in
the reader's format, and approvals telling the stricter masks chosen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from apps.catalog.models import Dataset
from apps.sharing.models import Notification
from apps.sharing.services import grant_revoke, request_approve
from tests.factories import DatasetFactory
from tests.sharing.conftest import MONDAY, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_monday")]

GRANTS = reverse("admin:sharing_grant_changelist")
NOTIFICATIONS = reverse("admin:sharing_notification_changelist")


@pytest.fixture
def grant(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"])
    return request_approve(request=request, by=sw.provider_officer, masks={"name": "hash"})


def _get(client, user, url: str, language: str = "en") -> str:
    client.force_login(user)
    response = client.get(url, headers={"accept-language": language})
    assert response.status_code == 200
    return response.text


def test_the_grant_list_filter_names_only_datasets_of_grants_the_viewer_sees(client, sw, grant):
    # WJ holds a grant on GA's dataset and gives one on its own: two datasets to filter by.
    request_approve(
        request=submit(sw.vaccination, sw.outsider, sw.outsider_officer, ["phone"]),
        by=sw.consumer_officer,
    )
    draft = DatasetFactory(
        provider=sw.outsider, code="MZ-DRAFT-001", name="民政草稿数据集",
        status=Dataset.Status.DRAFT, version=0,
    )  # fmt: skip
    page = _get(client, sw.consumer_officer, GRANTS)
    assert f"dataset__id__exact={sw.dataset.pk}" in page
    assert f"dataset__id__exact={sw.vaccination.pk}" in page
    assert "MZ-DRAFT-001" not in page and "民政草稿数据集" not in page
    assert f"dataset__id__exact={draft.pk}" not in page
    page = _get(client, sw.provider_officer, GRANTS)  # GA sees only the grant on its dataset
    assert f"dataset__id__exact={sw.vaccination.pk}" not in page


def test_request_page_links_a_related_object_only_for_a_viewer_who_may_open_it(client, sw, grant):
    url = reverse("admin:sharing_datarequest_change", args=[grant.request_id])
    department = reverse("admin:departments_department_change", args=[sw.consumer.pk])
    officer = _get(client, sw.provider_officer, url)
    assert department not in officer and "/admin/auth/user/" not in officer
    assert sw.consumer.name in officer and sw.consumer_officer.username in officer
    assert sw.provider_officer.username in officer  # who decided, as text
    dataset = reverse("admin:catalog_dataset_change", args=[sw.dataset.pk])
    assert f'href="{dataset}"' in officer, "its own dataset, which it may open"

    auditor = _get(client, sw.provider_auditor, url)  # auditors read the departments' pages
    assert f'href="{department}"' in auditor
    response = client.get(department)
    assert response.status_code == 200, "the link leads to a page the viewer may open"


def test_grant_page_shows_who_revoked_as_text_to_officers(client, sw, grant):
    grant_revoke(grant=grant, by=sw.provider_officer, reason="项目结束")
    url = reverse("admin:sharing_grant_change", args=[grant.pk])
    page = _get(client, sw.consumer_officer, url)
    assert sw.provider_officer.username in page and "/admin/auth/user/" not in page
    assert "/admin/departments/department/" not in page


def test_grant_page_shows_the_last_day_in_the_readers_date_format(client, sw, grant):
    url = reverse("admin:sharing_grant_change", args=[grant.pk])
    last_day = grant.valid_until.date() - dt.timedelta(days=1)
    page = _get(client, sw.consumer_officer, url)
    assert f'<div class="readonly">{date_format(last_day)}</div>' in page
    assert last_day.isoformat() not in page
    page = _get(client, sw.consumer_officer, url, "zh-hans")
    with translation.override("zh-hans"):
        assert f'<div class="readonly">{date_format(last_day)}</div>' in page


def test_notifications_filter_by_unread_and_read(client, sw, grant):
    notes = list(Notification.objects.filter(recipient=sw.consumer_officer).order_by("pk"))
    assert notes
    read = notes[0]
    Notification.objects.filter(pk=read.pk).update(read_at=MONDAY)
    page = _get(client, sw.consumer_officer, NOTIFICATIONS)
    assert "Unread" in page and "Not empty" not in page and "By read at" not in page
    unread_page = _get(client, sw.consumer_officer, f"{NOTIFICATIONS}?read_at__isempty=1")
    read_page = _get(client, sw.consumer_officer, f"{NOTIFICATIONS}?read_at__isempty=0")
    link = reverse("admin:sharing_notification_change", args=[read.pk])
    assert link not in unread_page and link in read_page


def test_the_approval_notice_names_the_stricter_masks_by_their_labels(sw, grant):
    notice = Notification.objects.get(recipient=sw.consumer_officer, subject__contains="approved")
    with translation.override("en"):
        body = notice.body_text
    assert "姓名（name）: Keyed hash per consumer (comparable, not readable)" in body
    assert "联系电话（mobile）:" not in body, "only the masks chosen at approval"
    with translation.override("zh-hans"):
        assert "按使用部门加密哈希（可比对，不可读）" in notice.body_text


def test_an_approval_without_stricter_masks_says_nothing_about_masks(sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_approve(request=request, by=sw.provider_officer)
    notice = Notification.objects.get(recipient=sw.consumer_officer, subject__contains="approved")
    assert "Masked more strictly" not in notice.body_text
