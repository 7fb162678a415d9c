"""Server-side verification starts after the newest archive only when the archive's signed
file vouches for it: audit_archive refuses UPDATE and DELETE but not INSERT, and the row's
signature covers the file's digest, not the row, so a row alone proves nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine

from apps.audit.models import Archive, AuditEvent
from apps.audit.partitions import partition_archive, partitions_ensure
from apps.audit.services import audit_record_admin, checkpoint_create
from apps.audit.verification import chain_start, chain_verify
from apps.common import clock
from tests.audit.insider import insider_sql

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))


def admin_event(n: int) -> AuditEvent:
    return audit_record_admin(action="membership.add", target=f"user:{n}", details={"n": n})


@pytest.fixture
def archived(audit_key):
    """January archived to its signed file; February still in the database."""
    with time_machine.travel(dt.datetime(2024, 1, 15, 10, tzinfo=TZ), tick=False):
        partitions_ensure(months_ahead=1)
        january = [admin_event(n) for n in range(3)]
        checkpoint_create()
    with time_machine.travel(dt.datetime(2024, 2, 10, 10, tzinfo=TZ), tick=False):
        february = [admin_event(n) for n in range(4)]
        checkpoint_create()
    archive = partition_archive(name="audit_event_202401")
    assert chain_verify().ok
    return archive, january, february


def test_an_inserted_archive_row_does_not_hide_deleted_first_events(world):
    for n in range(4):
        admin_event(n)
    first = AuditEvent.objects.order_by("seq").first().seq
    cut = AuditEvent.objects.order_by("seq")[3]
    checkpoint_create()
    # The insider deletes the oldest events (triggers bypassed) and inserts an archive row
    # saying they were archived: an ordinary INSERT, which the table allows.
    insider_sql("DELETE FROM audit_event WHERE seq <= %s", [cut.seq])
    Archive.objects.create(
        partition="audit_event_200001",
        first_seq=first,
        last_seq=cut.seq,
        last_hash=cut.hash,
        path="/nonexistent/audit_event_200001.ndjson",
        sha256="0" * 64,
        signature="0" * 128,
        archived_at=clock.now(),
    )
    result = chain_verify()
    assert (result.ok, result.first_bad_event) == (False, first)
    assert f"#{first}: events {first}..{cut.seq} are missing" in result.problems
    assert any(
        "archive audit_event_200001" in p and "is not vouched for: its file" in p
        for p in result.problems
    )


def test_an_inserted_archive_row_is_reported_even_when_nothing_was_deleted(world):
    cut = AuditEvent.objects.order_by("seq")[2]
    Archive.objects.create(
        partition="audit_event_200001",
        first_seq=1,
        last_seq=cut.seq,
        last_hash=cut.hash,
        path="/nonexistent/audit_event_200001.ndjson",
        sha256="0" * 64,
        signature="0" * 128,
        archived_at=clock.now(),
    )
    result = chain_verify()
    assert not result.ok
    assert any("is not vouched for" in p for p in result.problems)
    assert not any("repeated or out of order" in p for p in result.problems)


def test_an_archive_row_copying_a_genuine_file_and_signature_is_not_believed(archived):
    archive, january, february = archived
    hidden = february[1]
    insider_sql("DELETE FROM audit_event WHERE seq <= %s", [hidden.seq])
    Archive.objects.create(
        partition="audit_event_202401x",
        first_seq=archive.first_seq,
        last_seq=hidden.seq,
        last_hash=hidden.hash,
        path=archive.path,
        sha256=archive.sha256,
        signature=archive.signature,
        archived_at=clock.now(),
    )
    start = chain_start()
    assert (start.seq, start.prev_hash) == (archive.last_seq + 1, archive.last_hash)
    result = chain_verify()
    assert (result.ok, result.first_bad_event) == (False, archive.first_seq)
    assert any(
        f"its file ends with event {archive.last_seq}, not with {hidden.seq}" in p
        for p in result.problems
    )
    assert f"#{february[0].seq}: events {february[0].seq}..{hidden.seq} are missing" in (
        result.problems
    )


def test_an_archive_whose_file_was_changed_or_removed_no_longer_starts_the_chain(archived):
    archive, january, february = archived
    path = Path(archive.path)
    path.write_bytes(path.read_bytes().replace(b"user:1", b"user:9"))
    result = chain_verify()
    assert (result.ok, result.first_bad_event) == (False, 1)
    assert any("is not the one archived (SHA-256 differs)" in p for p in result.problems)
    path.unlink()
    result = chain_verify()
    assert any("cannot be read" in p for p in result.problems)
    assert f"#1: events 1..{archive.last_seq} are missing" in result.problems
