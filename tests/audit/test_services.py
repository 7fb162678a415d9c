import pytest

from apps.audit.models import AuditEvent, ChainHead
from apps.audit.services import audit_record_access, audit_record_admin
from apps.audit.verification import chain_verify
from govdata.auditchain import GENESIS_HASH
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db


def test_record_access_writes_every_attribute(world):
    event = record_read(world)
    stored = AuditEvent.objects.get(seq=event.seq)
    assert stored.kind == "access"
    assert stored.consumer_code == "WJ" and stored.provider_code == "GA"
    assert stored.dataset_code == "GA-RK-001"
    assert stored.fields == {"gender": "none", "name": "name"}
    assert stored.grant_ids == [1, 3]
    assert stored.filters == {"district": "天河区"}
    assert stored.purpose == "核验低保申请人户籍" and stored.end_user == "张三"
    assert stored.username == world.consumer_officer.username
    assert stored.client_ip == "10.0.0.1" and stored.duration_ms == 12.5
    assert stored.hash == event.hash
    assert stored.prev_hash == (
        AuditEvent.objects.get(seq=event.seq - 1).hash if event.seq > 1 else GENESIS_HASH
    )


def test_events_form_a_gap_free_chain(world):
    first = record_read(world)
    second = record_read(world, outcome="denied", reason="no grant", row_count=None)
    third = audit_record_admin(
        action="grant.revoke",
        actor=world.provider_officer,
        department=world.provider,
        target="grant:7",
        details={"reason": "expired", "ratio": 0.5},
    )
    assert [first.seq + 1, first.seq + 2] == [second.seq, third.seq]
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert ChainHead.objects.get().seq == third.seq
    result = chain_verify()
    assert result.as_dict() == {"ok": True, "events_checked": third.seq, "first_bad_event": None}


def test_record_access_rejects_unknown_action_and_outcome(world):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="action"):
        record_read(world, action="peek")
    with pytest.raises(ValueError, match="outcome"):
        record_read(world, outcome="maybe")
    assert AuditEvent.objects.count() == before


def test_disabled_audit_writes_nothing(world, settings):
    settings.GOVDATA = {**settings.GOVDATA, "AUDIT_ENABLED": False}
    before = AuditEvent.objects.count()
    assert record_read(world) is None
    assert AuditEvent.objects.count() == before


def test_record_access_raises_when_the_event_cannot_be_written(world):
    # A NUL character cannot be stored in PostgreSQL text: the write fails, and so must the read.
    with pytest.raises(Exception):  # noqa: B017 - any database error must propagate
        audit_record_access(
            request_id="r",
            action="lookup",
            consumer=world.consumer,
            provider=world.provider,
            dataset=world.dataset,
            fields={},
            row_count=1,
            filters={},
            purpose="bad\x00purpose",
            outcome="allowed",
        )


def test_admin_event_about_a_use_of_data_fills_the_searchable_columns(world):
    event = audit_record_admin(
        action="request.approve",
        actor=world.provider_officer,
        department=world.provider,
        consumer=world.consumer,
        dataset=world.dataset,
        fields={"name": "hash", "mobile": "mobile"},
        target="request:7",
        details={"grant": 3},
    )
    stored = AuditEvent.objects.get(seq=event.seq)
    assert (stored.kind, stored.provider_id, stored.consumer_id, stored.dataset_id) == (
        "admin",
        world.provider.pk,
        world.consumer.pk,
        world.dataset.pk,
    )
    assert (stored.provider_code, stored.consumer_code, stored.dataset_code) == (
        "GA",
        "WJ",
        "GA-RK-001",
    )
    assert stored.fields == {"name": "hash", "mobile": "mobile"}
    assert stored.details == {"grant": 3} and stored.user_id == world.provider_officer.pk


def test_admin_event_without_consumer_or_dataset_leaves_them_empty(world):
    event = audit_record_admin(
        action="membership.add",
        department=world.provider,
        target="user:1",
        details={"role": "officer"},
    )
    stored = AuditEvent.objects.get(seq=event.seq)
    assert (stored.consumer_id, stored.dataset_id, stored.provider_id) == (
        None,
        None,
        world.provider.pk,
    )
    assert (stored.consumer_code, stored.dataset_code, stored.fields) == ("", "", {})
