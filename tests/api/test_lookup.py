"""Lookups by key: projection with `fields=` as for pages, the key normalised as sync stores it,
and the key recorded in the audit event whether the lookup is allowed or refused."""

from __future__ import annotations

import pytest

from apps.audit.models import AuditEvent
from apps.records.store import store_replace_rows
from tests.api.conftest import PURPOSE, ROWS

BASE = "/api/v1/datasets/GA-RK-001"
KEY = ROWS[0]["id_number"]
X_KEY = "44010019400101139X"  # a resident ID number whose check digit is X


def _last_lookup() -> AuditEvent:
    return AuditEvent.objects.filter(action="lookup").latest("seq")


def test_lookup_returns_only_the_fields_asked_for_and_audits_only_those(api_world):
    response = api_world.clients["granted"].get(
        f"{BASE}/records/{KEY}/?fields=district,name", **PURPOSE
    )
    assert response.status_code == 200
    assert response.json() == {"district": "天河区", "name": "张*"}
    event = _last_lookup()
    assert event.outcome == "allowed" and event.row_count == 1
    assert event.fields == {"district": "none", "name": "name"}
    assert event.filters == {"id_number": KEY}


def test_lookup_projection_works_for_fields_masked_in_python(api_world):
    field = api_world.base.fields["name"]
    field.masking = field.published_masking = "hash"
    field.save(update_fields=["masking", "published_masking"])
    response = api_world.clients["granted"].get(f"{BASE}/records/{KEY}/?fields=name", **PURPOSE)
    assert response.status_code == 200 and list(response.json()) == ["name"]
    assert _last_lookup().fields == {"name": "hash"}


@pytest.mark.parametrize("fields", ["address", "religion", "district,address"])
def test_lookup_asking_for_an_unreadable_field_is_403_and_audited_as_denied(api_world, fields):
    response = api_world.clients["granted"].get(f"{BASE}/records/{KEY}/?fields={fields}", **PURPOSE)
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert "address" in response.json()["detail"] or "religion" in response.json()["detail"]
    event = _last_lookup()
    assert event.outcome == "denied" and event.fields == {}
    assert event.filters == {"fields": fields, "id_number": KEY}


def test_lookup_asking_for_an_unknown_field_is_400(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/records/{KEY}/?fields=nope", **PURPOSE)
    assert response.status_code == 400


def test_lookup_filtering_on_a_masked_field_is_403_not_ignored(api_world):
    response = api_world.clients["granted"].get(
        f"{BASE}/records/{KEY}/?name={ROWS[0]['name']}", **PURPOSE
    )
    assert response.status_code == 403
    assert _last_lookup().outcome == "denied"


def test_lookup_with_a_filter_on_a_clear_field_applies_it(api_world):
    client = api_world.clients["granted"]
    found = client.get(f"{BASE}/records/{KEY}/?district=天河区", **PURPOSE)
    assert found.status_code == 200 and found.json()["id_number"] == KEY
    assert _last_lookup().filters == {"district": "天河区", "id_number": KEY}
    assert client.get(f"{BASE}/records/{KEY}/?district=越秀区", **PURPOSE).status_code == 404


@pytest.fixture
def x_record(api_world):
    row = {**ROWS[1], "id_number": X_KEY}
    store_replace_rows(api_world.base.dataset, [*ROWS, row])
    return row


@pytest.mark.parametrize(
    "asked",
    [
        "44010019400101139x",  # lower-case check digit
        "４４０１００１９４００１０１１３９Ｘ",  # full-width
        "%2044010019400101139x%E3%80%80",  # a space before, an ideographic space after
    ],
)
def test_lookup_normalises_an_id_number_as_sync_stores_it(
    api_world, x_record, django_assert_num_queries, asked
):
    client = api_world.clients["granted"]
    client.get(f"{BASE}/records/{KEY}/", **PURPOSE)  # warm caches
    with django_assert_num_queries(3):
        response = client.get(f"{BASE}/records/{asked}/", **PURPOSE)
    assert response.status_code == 200 and response.json()["id_number"] == X_KEY
    assert _last_lookup().filters == {"id_number": X_KEY}


def test_lookup_of_a_key_that_is_no_valid_id_number_is_still_a_404(api_world):
    response = api_world.clients["granted"].get(f"{BASE}/records/not-a-number/", **PURPOSE)
    assert response.status_code == 404


def test_refused_lookup_records_the_key_asked_for(api_world, x_record):
    # MZ reads only the open fields: the key field is not readable for it.
    response = api_world.clients["no_grant"].get(f"{BASE}/records/44010019400101139x/", **PURPOSE)
    assert response.status_code == 403
    event = _last_lookup()
    assert event.outcome == "denied" and event.consumer_code == "MZ"
    assert event.filters == {"id_number": X_KEY}


def test_lookup_by_a_consumer_reading_no_field_records_the_key(api_world):
    from apps.catalog.models import Field

    Field.objects.filter(dataset=api_world.base.dataset, name__in=["gender", "district"]).update(
        sharing_type="none", published_sharing_type="none", legal_basis="《保密法》"
    )
    response = api_world.clients["no_grant"].get(f"{BASE}/records/{KEY}/", **PURPOSE)
    assert response.status_code == 403
    event = _last_lookup()
    assert event.reason == "no readable field" and event.filters == {"id_number": KEY}
