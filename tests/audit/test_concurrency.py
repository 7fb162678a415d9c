"""Writers in parallel threads, each with its own database connection, build one chain."""

import threading

from django.db import connections

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record_access
from apps.audit.verification import chain_verify

WRITERS, EACH = 4, 15


def test_concurrent_writers_produce_one_gap_free_chain(flushable_audit):
    errors = []

    def writer(n: int) -> None:
        try:
            for i in range(EACH):
                audit_record_access(
                    request_id=f"w{n}-{i}",
                    action="lookup",
                    consumer=None,
                    provider=None,
                    dataset=None,
                    fields={"name": "name"},
                    row_count=1,
                    filters={},
                    purpose=f"writer {n}",
                    outcome="allowed",
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
        "ok": True,
        "events_checked": WRITERS * EACH,
        "first_bad_event": None,
    }


def test_beat_task_signs_a_checkpoint_in_a_real_worker(flushable_audit, celery_worker_live):
    import time

    from apps.audit.models import Checkpoint
    from apps.audit.tasks import checkpoint_sign
    from apps.audit.verification import chain_verify

    event = audit_record_access(
        request_id="t",
        action="list",
        consumer=None,
        provider=None,
        dataset=None,
        fields={},
        row_count=0,
        filters={},
        purpose="task test",
        outcome="allowed",
    )
    checkpoint_sign.delay()
    deadline = time.monotonic() + 60
    while not Checkpoint.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    checkpoint = Checkpoint.objects.get()
    assert (checkpoint.seq, checkpoint.head_hash) == (event.seq, event.hash)
    assert chain_verify().ok
