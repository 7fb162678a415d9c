"""Monthly partitions are created ahead, and the oldest can be archived to a signed file that
verifies offline while the rest of the chain still verifies in the database."""

import datetime as dt
import hashlib
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from apps.audit.models import Archive, AuditEvent
from apps.audit.partitions import partition_archive, partitions_ensure, partitions_list
from apps.audit.services import audit_record_admin, checkpoint_create
from apps.audit.signing import public_key_pem, signing_key
from apps.audit.verification import chain_verify
from govdata.auditchain import verify_export

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))


def admin_event(n: int):
    return audit_record_admin(action="membership.add", target=f"user:{n}", details={"n": n})


def test_partitions_are_created_ahead_and_rows_land_in_their_month():
    with time_machine.travel(dt.datetime(2024, 1, 15, 10, tzinfo=TZ), tick=False):
        created = partitions_ensure(months_ahead=1)
        assert created == ["audit_event_202401", "audit_event_202402"]
        assert partitions_ensure(months_ahead=1) == []
        event = admin_event(1)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM audit_event WHERE seq = %s", [event.seq]
        )
        assert cursor.fetchone()[0] == "audit_event_202401"


def test_oldest_partition_is_archived_to_a_signed_verifiable_file(audit_key):
    with time_machine.travel(dt.datetime(2024, 1, 15, 10, tzinfo=TZ), tick=False):
        partitions_ensure(months_ahead=1)
        january = [admin_event(n) for n in range(3)]
        checkpoint_create()
    with time_machine.travel(dt.datetime(2024, 2, 10, 10, tzinfo=TZ), tick=False):
        february = [admin_event(n) for n in range(2)]
        checkpoint_create()
    with pytest.raises(ValueError, match="oldest"):
        partition_archive(name="audit_event_202402")

    archive = partition_archive(name="audit_event_202401")

    assert "audit_event_202401" not in partitions_list()
    assert (archive.first_seq, archive.last_seq) == (january[0].seq, january[-1].seq)
    assert not AuditEvent.objects.filter(seq__lte=archive.last_seq).exists()
    path = Path(archive.path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == archive.sha256
    signing_key().public_key().verify(bytes.fromhex(archive.signature), bytes.fromhex(digest))
    offline = verify_export(str(path), public_key_pem())
    assert (offline.ok, offline.events_checked) == (True, 3)
    remaining = chain_verify()
    assert remaining.as_dict() == {
        "ok": True,
        "events_checked": len(february),
        "first_bad_event": None,
    }
    assert Archive.objects.count() == 1


def test_partitions_command_lists_and_creates(capsys):
    call_command("audit_partitions", ensure=1)
    out = capsys.readouterr().out
    assert "audit_event_default" in out


def test_partitions_follow_the_utc_month_whatever_the_local_date():
    # 1 February 03:00 in Beijing is still 31 January in UTC, the partitions' time zone.
    with time_machine.travel(dt.datetime(2024, 2, 1, 3, tzinfo=TZ), tick=False):
        assert partitions_ensure(months_ahead=0) == ["audit_event_202401"]


def test_an_event_stamped_in_a_month_already_left_joins_the_new_month_and_the_old_archives(
    audit_key,
):
    with time_machine.travel(dt.datetime(2024, 1, 15, 10, tzinfo=TZ), tick=False):
        partitions_ensure(months_ahead=1)
        admin_event(0)
    # Stamped just after midnight UTC and chained first; then one whose request took its time
    # just before midnight but reached the chain after it.
    with time_machine.travel(dt.datetime(2024, 2, 1, 0, 0, 0, 1000, tzinfo=dt.UTC), tick=False):
        february = admin_event(1)
    with time_machine.travel(dt.datetime(2024, 1, 31, 23, 59, 59, tzinfo=dt.UTC), tick=False):
        late = admin_event(2)
    assert february.seq < late.seq
    assert late.occurred_at == dt.datetime(2024, 2, 1, tzinfo=dt.UTC)
    assert AuditEvent.objects.get(seq=late.seq).occurred_at == late.occurred_at
    archive = partition_archive(name="audit_event_202401")
    assert (archive.first_seq, archive.last_seq) == (1, 1)
    assert chain_verify().ok


def test_a_month_whose_events_interleave_with_the_next_is_not_archived_alone(audit_key):
    with time_machine.travel(dt.datetime(2024, 1, 15, 10, tzinfo=TZ), tick=False):
        partitions_ensure(months_ahead=1)
        admin_event(0)
    with time_machine.travel(dt.datetime(2024, 2, 1, 0, 0, 0, 1000, tzinfo=dt.UTC), tick=False):
        february = admin_event(1)
        january = admin_event(2)
    # An insider with the triggers off moves the later event back into January.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        try:
            cursor.execute(
                "UPDATE audit_event SET occurred_at = %s WHERE seq = %s",
                [dt.datetime(2024, 1, 31, 23, 59, 59, tzinfo=dt.UTC), january.seq],
            )
        finally:
            cursor.execute("SET session_replication_role = origin")
    assert february.seq < january.seq
    with pytest.raises(ValueError, match="would have a gap"):
        partition_archive(name="audit_event_202401")
    assert "audit_event_202401" in partitions_list()
    assert not Archive.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_partition_ddl_gives_up_instead_of_queueing_every_read_behind_a_long_reader(
    flushable_audit,
):
    import time

    import psycopg2
    from django.db import OperationalError, connection

    s = connection.settings_dict
    reader = psycopg2.connect(
        dbname=s["NAME"],
        user=s["USER"],
        password=s["PASSWORD"] or None,
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
    )
    try:
        with reader.cursor() as cursor:  # a long verification or export, say
            cursor.execute("LOCK TABLE audit_event IN ACCESS SHARE MODE")
        started = time.monotonic()
        with (
            time_machine.travel(dt.datetime(2031, 5, 15, tzinfo=dt.UTC), tick=False),
            pytest.raises(OperationalError, match="lock timeout"),
        ):
            partitions_ensure(months_ahead=0)
        assert time.monotonic() - started < 10
    finally:
        reader.close()
    assert "audit_event_203105" not in partitions_list()
