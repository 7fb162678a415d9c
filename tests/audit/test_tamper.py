"""Every kind of tampering by an insider is reported at the sequence number it affects.
`s(i)` is the sequence number of the i-th event written by the test (the world's own set-up
is audited too, before it)."""

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import DatabaseError, connection, transaction

from apps.audit.models import Archive, AuditEvent, ChainHead, Checkpoint
from apps.audit.partitions import partitions_list
from apps.audit.services import checkpoint_create
from apps.audit.verification import TIME_SQL, chain_verify
from govdata.auditchain import chain_hash, checkpoint_message, event_message
from tests.audit.conftest import record_read
from tests.audit.insider import insider_sql

pytestmark = pytest.mark.django_db


@pytest.fixture
def s(world):
    events = [record_read(world, request_id=f"req-{i}", row_count=i) for i in range(1, 6)]
    checkpoint_create()
    first = events[0].seq
    assert [e.seq for e in events] == list(range(first, first + 5))
    assert chain_verify().ok
    return lambda i: first + i - 1


def verdict():
    return chain_verify().as_dict()


def total() -> int:
    return ChainHead.objects.get().seq


def test_untouched_chain_verifies(s):
    assert verdict() == {"ok": True, "events_checked": total(), "first_bad_event": None}


def test_edited_field_is_reported_at_its_sequence(s):
    insider_sql(
        "UPDATE audit_event SET body = jsonb_set(body::jsonb, '{purpose}', '\"other\"')::text"
        " WHERE seq = %s",
        [s(3)],
    )
    assert verdict()["first_bad_event"] == s(3)


def test_edited_json_attribute_is_reported(s):
    insider_sql(
        "UPDATE audit_event SET body ="
        """ jsonb_set(body::jsonb, '{fields}', '{"gender": "none"}')::text"""
        " WHERE seq = %s",
        [s(2)],
    )
    assert verdict() == {"ok": False, "events_checked": total(), "first_bad_event": s(2)}


def test_deleted_row_is_reported_at_its_sequence(s):
    insider_sql("DELETE FROM audit_event WHERE seq = %s", [s(3)])
    assert verdict() == {"ok": False, "events_checked": total() - 1, "first_bad_event": s(3)}


def test_deleted_last_row_is_reported_through_the_head(s):
    insider_sql("DELETE FROM audit_event WHERE seq = %s", [s(5)])
    assert verdict()["first_bad_event"] == s(5)


def test_inserted_duplicate_row_is_reported(s):
    insider_sql(
        "INSERT INTO audit_event (seq, occurred_at, body, prev_hash, hash)"
        " SELECT seq, occurred_at + interval '1 microsecond',"
        " jsonb_set(body::jsonb, '{end_user}', '\"李四\"')::text, prev_hash, hash"
        " FROM audit_event WHERE seq = %s",
        [s(3)],
    )
    assert verdict()["first_bad_event"] == s(3)


def test_row_appended_with_a_valid_hash_is_reported_beyond_the_head(s, world):
    head = ChainHead.objects.get()
    record_read(world, request_id="forged")  # hashed correctly by the trigger
    insider_sql("UPDATE audit_chain_head SET seq = %s, hash = %s", [head.seq, head.hash])
    assert verdict()["first_bad_event"] == s(6)


def test_swapped_rows_are_reported_at_the_first(s):
    insider_sql("UPDATE audit_event SET seq = -1 WHERE seq = %s", [s(2)])
    insider_sql("UPDATE audit_event SET seq = %s WHERE seq = %s", [s(2), s(4)])
    insider_sql("UPDATE audit_event SET seq = %s WHERE seq = -1", [s(4)])
    assert verdict()["first_bad_event"] == s(2)


def test_truncated_log_is_reported_from_the_first_event(s):
    insider_sql("TRUNCATE audit_event")
    assert verdict() == {"ok": False, "events_checked": 0, "first_bad_event": 1}


def test_forged_checkpoint_is_reported_at_its_sequence(s):
    other_key = Ed25519PrivateKey.generate()
    at = "2026-01-01T00:00:00.000000Z"
    head = AuditEvent.objects.get(seq=s(3)).hash
    Checkpoint.objects.create(
        seq=s(3),
        head_hash=head,
        signed_at="2026-01-01T00:00:00Z",
        signature=other_key.sign(checkpoint_message(s(3), head, at)).hex(),
        key_id="forged",
    )
    assert verdict()["first_bad_event"] == s(3)


def test_rewritten_chain_is_caught_by_the_signed_checkpoint(s):
    # The insider edits event 4 and recomputes every later hash: only the checkpoint notices.
    insider_sql(
        "UPDATE audit_event SET body = jsonb_set(body::jsonb, '{purpose}', '\"rewritten\"')::text"
        " WHERE seq = %s",
        [s(4)],
    )
    prev = AuditEvent.objects.get(seq=s(3)).hash
    for seq in (s(4), s(5)):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {TIME_SQL}, body FROM audit_event WHERE seq = %s", [seq])
            time, body = cursor.fetchone()
        digest = chain_hash(prev, event_message(seq, time, body))
        insider_sql(
            "UPDATE audit_event SET prev_hash = %s, hash = %s WHERE seq = %s", [prev, digest, seq]
        )
        prev = digest
    insider_sql("UPDATE audit_chain_head SET hash = %s", [prev])
    assert verdict()["first_bad_event"] == s(5)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_event SET prev_hash = 'x' WHERE seq = 1",
        "DELETE FROM audit_event WHERE seq = 1",
        "TRUNCATE audit_event",
        "UPDATE audit_checkpoint SET seq = 99",
        "DELETE FROM audit_checkpoint",
        "TRUNCATE audit_checkpoint",
        "DELETE FROM audit_chain_head",
    ],
)
def test_triggers_refuse_changes(s, sql):
    with pytest.raises(DatabaseError, match="append-only|Cannot"), transaction.atomic():
        connection.cursor().execute(sql)
    assert verdict()["ok"]


def test_triggers_refuse_changes_on_each_partition(s):
    for partition in partitions_list():
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            connection.cursor().execute(f"TRUNCATE {partition}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM audit_event")
        holding = cursor.fetchone()[0]
    assert holding != "audit_event"
    with pytest.raises(DatabaseError, match="append-only|Cannot"), transaction.atomic():
        connection.cursor().execute(f"DELETE FROM {holding} WHERE seq = %s", [s(2)])
    assert AuditEvent.objects.count() == total()


@pytest.mark.parametrize(
    ("trigger", "sql"),
    [
        ("pgtrigger_audit_event_append_only", "UPDATE audit_event SET body = '{}' WHERE seq = %s"),
        ("pgtrigger_audit_event_append_only", "DELETE FROM audit_event WHERE seq = %s"),
        ("pgtrigger_audit_checkpoint_append_only", "UPDATE audit_checkpoint SET seq = %s"),
        ("pgtrigger_audit_checkpoint_append_only", "DELETE FROM audit_checkpoint WHERE seq > %s"),
        ("pgtrigger_audit_checkpoint_no_truncate", "TRUNCATE audit_checkpoint"),
        ("pgtrigger_audit_head_no_delete", "DELETE FROM audit_chain_head WHERE seq > %s"),
        ("pgtrigger_audit_head_no_truncate", "TRUNCATE audit_chain_head"),
    ],
)
def test_asking_pgtrigger_to_ignore_its_triggers_does_not_open_the_log(s, trigger, sql):
    """pgtrigger skips its own triggers for a session that names them in pgtrigger.ignore,
    a setting any session may set; the audit tables have triggers of their own that do not."""
    ignored = _pgtrigger_triggers(trigger)
    assert ignored != "{}"  # the pgtrigger trigger this test asks to skip exists
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL pgtrigger.ignore = %s", [ignored])
        cursor.execute(sql, [s(1)] if "%s" in sql else None)
    assert verdict()["ok"] and total() >= s(5)


def _pgtrigger_triggers(prefix: str) -> str:
    """The pgtrigger.ignore value naming the pgtrigger triggers whose names start with prefix."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tgname FROM pg_trigger WHERE tgname LIKE %s AND NOT tgisinternal",
            [prefix + "%"],
        )
        return "{" + ",".join(sorted(row[0] for row in cursor.fetchall())) + "}"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_archive SET last_seq = 2",
        "DELETE FROM audit_archive",
        "TRUNCATE audit_archive",
    ],
)
def test_archive_rows_cannot_be_changed_even_when_pgtrigger_is_asked_to_ignore(sql):
    row = Archive.objects.create(
        partition="audit_event_209901",
        first_seq=1,
        last_seq=1,
        last_hash="0" * 64,
        path="/nonexistent/audit_event_209901.ndjson",
        sha256="0" * 64,
        signature="0" * 128,
        archived_at=dt.datetime(2099, 2, 1, tzinfo=dt.UTC),
    )
    refused = pytest.raises(DatabaseError, match="append-only")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        ignored = _pgtrigger_triggers("pgtrigger_audit_archive")
        assert ignored != "{}"
        cursor.execute("SET LOCAL pgtrigger.ignore = %s", [ignored])
        cursor.execute(sql)
    assert Archive.objects.get().last_seq == row.last_seq
