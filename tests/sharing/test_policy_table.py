"""The policy answer for every (department, dataset, field) triple of the small world, through
the life of requests and grants: nothing is ever readable that should not be."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from apps.catalog.models import Field
from apps.sharing.models import GrantField
from apps.sharing.policy import access_for
from apps.sharing.services import (
    grant_revoke,
    grants_apply_field_change,
    grants_expire_due,
    request_approve,
    request_reject,
)
from tests.sharing.conftest import MONDAY, submit

pytestmark = pytest.mark.django_db

OPEN_POPULATION = {"gender": "none", "district": "none"}
OPEN_VACCINATION = {"vaccine": "none", "clinic_address": "address"}


def baseline() -> dict[tuple[str, str], dict[str, str]]:
    own_population = dict.fromkeys(
        ["id_number", "name", "gender", "birth_date", "mobile", "address", "district", "religion"],
        "none",
    )
    own_vaccination = dict.fromkeys(
        ["person_id", "vaccine", "dose_date", "clinic_address", "phone", "allergy"], "none"
    )
    return {
        ("GA", "GA-RK-001"): own_population,
        ("WJ", "GA-RK-001"): dict(OPEN_POPULATION),
        ("MZ", "GA-RK-001"): dict(OPEN_POPULATION),
        ("GA", "WJ-YM-001"): dict(OPEN_VACCINATION),
        ("WJ", "WJ-YM-001"): own_vaccination,
        ("MZ", "WJ-YM-001"): dict(OPEN_VACCINATION),
    }


def snapshot(sw) -> dict[tuple[str, str], dict[str, str]]:
    result = {}
    for department in sw.departments:
        for dataset in sw.datasets:
            decision = access_for(dataset=dataset, department=department)
            result[(department.code, dataset.code)] = {
                name: access.mask for name, access in decision.fields.items()
            }
    return result


def expect(**changes: dict[str, str]) -> dict[tuple[str, str], dict[str, str]]:
    """baseline() with some pairs' readable fields added: `WJ__GA_RK_001={"name": "hash"}`."""
    table = baseline()
    for key, extra in changes.items():
        dept, dataset = key.split("__")
        table[(dept, dataset.replace("_", "-"))].update(extra)
    return table


def test_baseline_owner_reads_all_in_clear_others_only_unconditional(sw):
    assert snapshot(sw) == baseline()


def test_full_life_of_a_request_and_grant(sw, at_monday):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["id_number", "name", "mobile"])
    assert snapshot(sw) == baseline(), "a pending request grants nothing"

    grant = request_approve(
        request=request,
        by=sw.provider_officer,
        fields=["id_number", "name"],
        masks={"name": "hash"},
    )
    partial = expect(WJ__GA_RK_001={"id_number": "none", "name": "hash"})
    assert snapshot(sw) == partial, "partial approval, stricter mask, no onward sharing"
    decision = access_for(dataset=sw.dataset, department=sw.consumer)
    assert decision.grant_ids == (grant.pk,)
    assert decision.fields["gender"].grant_ids == ()

    rejected = submit(sw.dataset, sw.outsider, sw.outsider_officer, ["mobile"])
    request_reject(request=rejected, by=sw.provider_officer, reason="用途不明确")
    assert snapshot(sw) == partial, "a rejection grants nothing"

    grant_revoke(grant=grant, by=sw.provider_officer, reason="合作结束")
    assert snapshot(sw) == baseline(), "revocation removes the rights at once"


def test_expired_grant_is_never_trusted_even_before_the_expiry_task(sw, at_monday):
    request = submit(sw.vaccination, sw.provider, sw.provider_officer, ["person_id", "dose_date"])
    request_approve(
        request=request, by=sw.consumer_officer, valid_until=MONDAY.date() + dt.timedelta(days=3)
    )
    granted = expect(GA__WJ_YM_001={"person_id": "hash", "dose_date": "none"})
    assert snapshot(sw) == granted

    with time_machine.travel(MONDAY + dt.timedelta(days=3, hours=14, minutes=59), tick=False):
        assert snapshot(sw) == granted, "valid through 23:59 of the last day, local time"
    with time_machine.travel(MONDAY + dt.timedelta(days=3, hours=15), tick=False):
        assert snapshot(sw) == baseline(), "expired: not trusted though still marked active"
        assert grants_expire_due() == 1
        assert snapshot(sw) == baseline()
    assert snapshot(sw) == baseline(), "once expired, moving the clock back does not revive it"


def test_a_grants_row_filter_holds_for_the_fields_it_gives_only(sw, at_monday):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["address"])
    request_approve(
        request=request, by=sw.provider_officer, row_filter={"district__in": ["天河区", "越秀区"]}
    )
    decision = access_for(dataset=sw.dataset, department=sw.consumer)
    assert decision.fields["address"].rows == ({"district__in": ["天河区", "越秀区"]},)
    assert decision.readable("address") and not decision.clear("address")
    assert decision.fields["gender"].rows is None  # unconditional: every row
    outsider = access_for(dataset=sw.dataset, department=sw.outsider)
    assert all(a.rows is None for a in outsider.fields.values())


def test_a_second_grant_with_a_row_filter_takes_nothing_away(sw, at_monday):
    first = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name", "mobile"])
    request_approve(request=first, by=sw.provider_officer)
    second = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name", "address"])
    request_approve(request=second, by=sw.provider_officer, row_filter={"district": "天河区"})
    decision = access_for(dataset=sw.dataset, department=sw.consumer)
    assert decision.fields["name"].rows is None  # the first grant covers every row
    assert decision.fields["mobile"].rows is None
    assert decision.fields["address"].rows == ({"district": "天河区"},)


def test_sharing_type_change_to_none_removes_the_field_from_grants(sw, at_monday):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["birth_date", "mobile"])
    request_approve(request=request, by=sw.provider_officer)
    assert snapshot(sw) == expect(WJ__GA_RK_001={"birth_date": "year_only", "mobile": "mobile"})

    birth_date = sw.fields["birth_date"]
    # As a publication leaves the field (the catalog's own tests publish through the service).
    Field.objects.filter(pk=birth_date.pk).update(
        sharing_type="none", published_sharing_type="none"
    )
    assert snapshot(sw) == expect(WJ__GA_RK_001={"mobile": "mobile"}), "fails closed at once"
    affected = grants_apply_field_change(
        field=birth_date,
        previous_sharing_type="conditional",
        new_sharing_type="none",
        by=sw.provider_officer,
        reason="涉及个人隐私",
    )
    assert affected == 1
    assert snapshot(sw) == expect(WJ__GA_RK_001={"mobile": "mobile"})
    Field.objects.filter(pk=birth_date.pk).update(
        sharing_type="conditional", published_sharing_type="conditional"
    )
    assert snapshot(sw) == expect(WJ__GA_RK_001={"mobile": "mobile"}), "not revived by reopening"


def test_unconditional_field_published_as_conditional_is_closed_to_non_owners(sw):
    Field.objects.filter(pk=sw.fields["gender"].pk).update(
        sharing_type="conditional",
        legal_basis="《政务数据共享条例》",
        published_sharing_type="conditional",
    )
    table = baseline()
    for dept in ("WJ", "MZ"):
        del table[(dept, "GA-RK-001")]["gender"]
    assert snapshot(sw) == table


def test_unknown_grant_mask_fails_closed(sw, at_monday):
    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["name", "mobile"])
    request_approve(request=request, by=sw.provider_officer)
    GrantField.objects.filter(field=sw.fields["name"]).update(mask_override="bogus")
    assert snapshot(sw) == expect(WJ__GA_RK_001={"mobile": "mobile"})


def test_unpublished_dataset_is_closed_to_non_owners_but_not_the_owner(sw):
    type(sw.dataset).objects.filter(pk=sw.dataset.pk).update(status="withdrawn")
    sw.dataset.refresh_from_db()
    table = baseline()
    table[("WJ", "GA-RK-001")] = {}
    table[("MZ", "GA-RK-001")] = {}
    assert snapshot(sw) == table


def test_a_grant_without_its_guardian_permission_is_not_trusted(sw, at_monday):
    from apps.catalog.models import FieldGroupObjectPermission

    request = submit(sw.dataset, sw.consumer, sw.consumer_officer, ["mobile"])
    request_approve(request=request, by=sw.provider_officer)
    assert FieldGroupObjectPermission.objects.filter(
        group=sw.consumer.group, content_object=sw.fields["mobile"]
    ).exists()
    FieldGroupObjectPermission.objects.filter(group=sw.consumer.group).delete()
    assert snapshot(sw) == baseline()
