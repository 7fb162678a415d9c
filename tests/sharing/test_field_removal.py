"""A field removed from the list (or no longer shared) at a publication: the requests, grants
and history that named it keep it, with the rule it was granted under, and the reasons the
platform writes about it are shown in each reader's language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation

from apps.catalog import services as catalog
from apps.catalog.models import Field, MaskingChoices
from apps.sharing.models import DataRequestField, Grant, GrantField, RequestTransition
from apps.sharing.services import grant_revoke, request_approve
from tests.sharing.conftest import MONDAY, submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("at_monday")]

MASKS = {code: str(label) for code, label in MaskingChoices.choices}
WITHDRAWN = "停止提供住址"


def _remove(sw, *names: str, reason: str = WITHDRAWN):
    for name in names:
        field = Field.objects.select_related("dataset").get(dataset=sw.dataset, name=name)
        catalog.field_remove(field=field, by=sw.provider_officer)
    return catalog.dataset_publish(dataset=sw.dataset, by=sw.provider_officer, reason=reason)


def _page(client, user, name: str, pk: int, language: str = "en") -> str:
    client.force_login(user)
    response = client.get(reverse(name, args=[pk]), headers={"accept-language": language})
    assert response.status_code == 200
    return response.text


def _request_page(client, user, pk: int, language: str = "en") -> str:
    return _page(client, user, "admin:sharing_datarequest_change", pk, language)


def _grant_page(client, user, pk: int, language: str = "en") -> str:
    return _page(client, user, "admin:sharing_grant_change", pk, language)


def _removed_on(version) -> str:
    return formats.localize(timezone.template_localtime(version.published_at))


def test_a_field_removed_from_the_list_stays_on_the_request_and_on_its_grant(client, sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "address"])
    grant = request_approve(request=request, by=sw.provider_officer)
    version = _remove(sw, "address")

    kept = DataRequestField.objects.get(request=request, field_name="address")
    assert (kept.field_id, kept.field_label) == (None, "住址")
    item = GrantField.objects.get(grant=grant, field_name="address")
    assert item.field_id is None and item.removed_at is not None
    assert item.field_masking == "address"
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.ACTIVE, "mobile is still held"

    for user in (sw.consumer_officer, sw.provider_officer):
        page = _request_page(client, user, request.pk)
        assert "<p>mobile</p>" in page and "<p>address</p>" in page and "<p>住址</p>" in page
        assert f"Removed on {_removed_on(version)}: {WITHDRAWN}" in page
        page = _grant_page(client, user, grant.pk)
        assert "<p>address</p>" in page and "<p>住址</p>" in page
        assert f"<p>{MASKS['address']}</p>" in page  # the rule it was granted under
        assert f"Field address was removed: {WITHDRAWN}" in page


def test_a_grant_ended_before_the_removal_still_shows_what_it_gave(client, sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "address"])
    grant = request_approve(request=request, by=sw.provider_officer)
    grant_revoke(grant=grant, by=sw.provider_officer, reason="项目结束")
    version = _remove(sw, "address")

    page = _grant_page(client, sw.consumer_officer, grant.pk)
    assert "<p>address</p>" in page and f"<p>{MASKS['address']}</p>" in page
    assert f"<p>{_removed_on(version)}</p>" in page
    assert f"Field address was removed: {WITHDRAWN}" in page
    assert "项目结束" in page  # the officer's own words, as typed

    client.force_login(sw.consumer_officer)
    response = client.get(f"/api/v1/requests/{request.pk}/")
    assert response.status_code == 200, response.text[:500]
    assert response.json()["granted_fields"] == {"mobile": "mobile", "address": "address"}


def test_the_api_still_lists_a_removed_field_among_those_requested(client, sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "address"])
    request_approve(request=request, by=sw.provider_officer)
    _remove(sw, "address")
    client.force_login(sw.consumer_officer)
    response = client.get(f"/api/v1/requests/{request.pk}/")
    assert response.json()["fields"] == ["mobile", "address"]


@pytest.mark.parametrize("removed", [["address"], ["address", "birth_date"]])
def test_pages_with_removed_fields_cost_the_same_queries(
    client, sw, removed, django_assert_num_queries
):
    request = submit(
        sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "address", "birth_date"]
    )
    grant = request_approve(request=request, by=sw.provider_officer)
    _remove(sw, *removed)
    client.force_login(sw.consumer_officer)
    for url, queries in (
        (reverse("admin:sharing_datarequest_change", args=[request.pk]), 30),
        (reverse("admin:sharing_grant_change", args=[grant.pk]), 31),
    ):
        client.get(url)  # Django's caches (content types) warm, as on a live server
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200


def test_a_field_no_longer_shared_shows_the_rule_it_was_granted_under_and_the_types_by_label(
    client, sw
):
    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile", "name"]),
        by=sw.provider_officer,
    )
    field = Field.objects.select_related("dataset").get(dataset=sw.dataset, name="mobile")
    catalog.field_update(field=field, by=sw.provider_officer, sharing_type="none", masking="redact")
    with translation.override("zh-hans"):  # the provider's officer works in Chinese
        catalog.dataset_publish(dataset=sw.dataset, by=sw.provider_officer, reason="涉及个人隐私")

    item = GrantField.objects.get(grant=grant, field_name="mobile")
    assert item.field_masking == "mobile" and item.removed_reason_message
    page = _grant_page(client, sw.consumer_officer, grant.pk)
    assert f"<p>{MASKS['mobile']}</p>" in page and MASKS["redact"] not in page
    expected = (
        "Field mobile is no longer shared (Conditional (有条件共享) → Not shared (不予共享)): "
        "涉及个人隐私"
    )
    assert expected in page
    assert "conditional → none" not in page
    page = _grant_page(client, sw.consumer_officer, grant.pk, "zh-hans")
    assert "有条件共享 → 不予共享" in page and "conditional → none" not in page
    history = RequestTransition.objects.filter(request_id=grant.request_id).last()
    assert history.reason == expected, "stored in the platform's language, not the officer's"


def test_a_removal_published_in_chinese_reads_in_each_readers_language(client, sw):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["address"])
    grant = request_approve(request=request, by=sw.provider_officer)
    with translation.override("zh-hans"):
        _remove(sw, "address")

    grant.refresh_from_db()
    english = f"Field address was removed: {WITHDRAWN}"
    assert grant.status == Grant.Status.REVOKED and grant.revoked_reason == english
    assert english in _grant_page(client, sw.consumer_officer, grant.pk)
    assert english in _request_page(client, sw.consumer_officer, request.pk)
    chinese = f"信息项 address 已移除：{WITHDRAWN}"
    assert chinese in _grant_page(client, sw.consumer_officer, grant.pk, "zh-hans")
    assert chinese in _request_page(client, sw.consumer_officer, request.pk, "zh-hans")


def test_an_approval_summary_reads_in_each_readers_language_and_a_rejection_as_typed(client, sw):
    approved = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    until = MONDAY.date() + dt.timedelta(days=30)
    with translation.override("zh-hans"):  # the deciding officer works in Chinese
        request_approve(request=approved, by=sw.provider_officer, valid_until=until)
    english = f"Approved mobile until {until.isoformat()}."
    assert english in _request_page(client, sw.consumer_officer, approved.pk)
    chinese = f"已批准 mobile，有效期至 {until.isoformat()}。"
    assert chinese in _request_page(client, sw.consumer_officer, approved.pk, "zh-hans")

    from apps.sharing.services import request_reject

    rejected = submit(sw.vaccination, sw.outsider, sw.outsider_officer, ["phone"])
    request_reject(request=rejected, by=sw.consumer_officer, reason="依据不足 <b>")
    page = _request_page(client, sw.outsider_officer, rejected.pk, "zh-hans")
    assert "依据不足 &lt;b&gt;" in page


def test_stored_reasons_without_their_text_keep_displaying(client, sw):
    """Rows written before reasons were kept as Text show their stored text."""
    grant = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        by=sw.provider_officer,
    )
    Grant.objects.filter(pk=grant.pk).update(
        status=Grant.Status.REVOKED, revoked_reason="信息项 mobile 已不再共享（conditional → none）"
    )
    page = _grant_page(client, sw.consumer_officer, grant.pk)
    assert "信息项 mobile 已不再共享（conditional → none）" in page
