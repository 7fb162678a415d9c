"""Only a publication changes what other departments read: draft edits of a published dataset's
fields (looser or stricter) reach consumers when the officer publishes them with a reason, and
a stricter change then ends the grants through grants_apply_field_change."""

from __future__ import annotations

import pytest

from apps.catalog import services as catalog
from apps.catalog.models import Field
from apps.sharing.models import Grant, GrantField
from apps.sharing.policy import access_for, accessible_fields_for_catalog
from apps.sharing.services import request_approve
from tests.sharing.conftest import submit
from tests.sharing.test_policy_table import baseline, expect, snapshot

pytestmark = pytest.mark.django_db

LEGAL = "《政务数据共享条例》"


def _edit(sw, name: str, **changes):
    field = Field.objects.select_related("dataset").get(dataset=sw.dataset, name=name)
    return catalog.field_update(field=field, by=sw.provider_officer, **changes)


def _publish(sw, reason: str = "调整共享属性"):
    return catalog.dataset_publish(dataset=sw.dataset, by=sw.provider_officer, reason=reason)


@pytest.mark.parametrize(
    ("name", "changes", "mask"),
    [
        ("religion", {"sharing_type": "unconditional", "masking": "none"}, "none"),
        ("birth_date", {"sharing_type": "unconditional", "legal_basis": ""}, "year_only"),
    ],
    ids=["none-to-unconditional", "conditional-to-unconditional"],
)
def test_loosened_sharing_type_reaches_consumers_only_at_publish(sw, name, changes, mask):
    _edit(sw, name, **changes)
    assert snapshot(sw) == baseline(), "a draft edit opens nothing to anyone"
    assert access_for(dataset=sw.dataset, department=sw.provider).clear(name), "owner reads it"

    version = _publish(sw, reason="经审查可无条件共享")
    assert version.reason == "经审查可无条件共享"
    assert snapshot(sw) == expect(WJ__GA_RK_001={name: mask}, MZ__GA_RK_001={name: mask})


def test_loosened_mask_of_a_granted_field_applies_only_at_publish(sw, at_monday):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["id_number", "mobile"])
    request_approve(request=request, by=sw.provider_officer)
    granted = expect(WJ__GA_RK_001={"id_number": "none", "mobile": "mobile"})
    assert snapshot(sw) == granted

    _edit(sw, "mobile", masking="none")
    assert snapshot(sw) == granted, "the grantee still reads the published mask"
    _publish(sw)
    assert snapshot(sw) == expect(WJ__GA_RK_001={"id_number": "none", "mobile": "none"})


def test_loosened_mask_of_an_unconditional_field_applies_only_at_publish(sw):
    # WJ provides the vaccination dataset; its clinic address is open to all, masked.
    field = sw.vaccination_fields["clinic_address"]
    catalog.field_update(field=field, by=sw.consumer_officer, masking="none")
    assert snapshot(sw) == baseline()
    catalog.dataset_publish(dataset=sw.vaccination, by=sw.consumer_officer, reason="地址可公开")
    opened = {"clinic_address": "none"}
    assert snapshot(sw) == expect(GA__WJ_YM_001=opened, MZ__WJ_YM_001=opened)


def test_field_added_to_a_published_dataset_is_invisible_to_consumers_until_publish(sw):
    catalog.field_create(
        dataset=sw.dataset, by=sw.provider_officer, name="household_type", label="户口类别",
        data_type="string", sharing_type="unconditional",
    )  # fmt: skip
    table = baseline()
    table[("GA", "GA-RK-001")]["household_type"] = "none"
    assert snapshot(sw) == table, "the owner reads its new field at once, nobody else"
    decisions = accessible_fields_for_catalog(datasets=[sw.dataset], department=sw.outsider)
    assert not decisions[sw.dataset.pk].readable("household_type")

    _publish(sw, reason="新增户口类别")
    opened = {"household_type": "none"}
    assert snapshot(sw) == expect(GA__GA_RK_001=opened, WJ__GA_RK_001=opened, MZ__GA_RK_001=opened)


def test_stricter_change_applies_at_publish_and_ends_the_grants_with_the_reason(sw, at_monday):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["birth_date", "mobile"])
    grant = request_approve(request=request, by=sw.provider_officer)
    granted = expect(WJ__GA_RK_001={"birth_date": "year_only", "mobile": "mobile"})

    _edit(sw, "birth_date", sharing_type="none", masking="redact")
    _edit(sw, "gender", sharing_type="conditional", legal_basis=LEGAL)
    assert snapshot(sw) == granted, "as published until the publication"

    _publish(sw, reason="涉及个人隐私")
    table = expect(WJ__GA_RK_001={"mobile": "mobile"})
    for dept in ("WJ", "MZ"):
        del table[(dept, "GA-RK-001")]["gender"]
    assert snapshot(sw) == table
    item = GrantField.objects.get(grant=grant, field=sw.fields["birth_date"])
    assert item.removed_at is not None and "涉及个人隐私" in item.removed_reason
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.ACTIVE, "mobile is still held"

    _edit(sw, "birth_date", sharing_type="conditional", masking="year_only")
    _publish(sw, reason="恢复有条件共享")
    assert snapshot(sw) == table, "reopening does not revive the ended right"


def test_removed_field_stays_readable_until_publish_then_leaves_the_grants(sw, at_monday):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["address"])
    grant = request_approve(request=request, by=sw.provider_officer)
    granted = expect(WJ__GA_RK_001={"address": "address"})
    catalog.field_remove(field=sw.fields["address"], by=sw.provider_officer)
    assert snapshot(sw) == granted

    _publish(sw, reason="停止提供住址")
    table = baseline()
    del table[("GA", "GA-RK-001")]["address"]
    assert snapshot(sw) == table
    assert Grant.objects.get(pk=grant.pk).status == Grant.Status.REVOKED


def test_masking_a_field_a_row_filter_names_revokes_that_grant_with_the_reason(sw, at_monday):
    from apps.audit.models import AuditEvent
    from apps.sharing.models import Notification

    filtered = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"]),
        by=sw.provider_officer,
        row_filter={"district": "天河区"},
    )
    whole = request_approve(
        request=submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name"]),
        by=sw.provider_officer,
    )
    _edit(sw, "district", masking="address")
    _publish(sw, reason="区县信息脱敏")
    filtered.refresh_from_db()
    whole.refresh_from_db()
    assert (filtered.status, whole.status) == (Grant.Status.REVOKED, Grant.Status.ACTIVE)
    assert "district" in filtered.revoked_reason and "区县信息脱敏" in filtered.revoked_reason
    assert AuditEvent.objects.filter(action="grant.revoke", body__contains=f"grant:{filtered.pk}")
    assert Notification.objects.filter(recipient=sw.consumer_officer, subject__contains="revoked")
