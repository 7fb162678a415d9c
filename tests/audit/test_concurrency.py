"""Writers in parallel threads, each with its own database connection, build one chain."""

import threading

import pytest
from django.db import connection, connections

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record_access
from apps.audit.verification import chain_verify


@pytest.fixture
def flushable_audit(db_role_reset, transactional_db):
    """Django flushes a transactional test's tables with TRUNCATE, which the append-only
    triggers refuse; the flush runs as the insider would (replica role), reset afterwards."""
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")


@pytest.fixture
def db_role_reset(django_db_blocker):
    yield
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = origin")


WRITERS, EACH = 4, 15


def test_concurrent_writers_produce_one_gap_free_chain(flushable_audit):
    errors = []

    def writer(n: int) -> None:
        try:
            for i in range(EACH):
                audit_record_access(
                    request_id=f"w{n}-{i}", action="lookup", consumer=None, provider=None,
                    dataset=None, fields={"name": "name"}, row_count=1, filters={},
                    purpose=f"writer {n}", outcome="allowed",
                )
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, WRITERS * EACH + 1))
    assert chain_verify().as_dict() == {
        "ok": True, "events_checked": WRITERS * EACH, "first_bad_event": None
    }
