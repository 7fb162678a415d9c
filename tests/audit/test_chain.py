"""Appending outside a transaction: the event commits at once (the chain lock is not held
through a disk flush) and the WAL is flushed past it before the call returns; inside a
transaction it simply joins the caller's transaction."""

import contextlib
import time

import pytest
from django.db import DatabaseError, connection, transaction

from apps.audit.chain import chain_append, chain_append_read
from apps.audit.models import AuditEvent
from apps.audit.verification import chain_verify
from apps.common import clock

BODY = {"kind": "access", "action": "lookup", "dataset_id": 7, "outcome": "allowed"}


def _insert_lsn() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        return cursor.fetchone()[0]


def _flushed_past_each_of(append, attempts: int = 3) -> bool:
    """Whether, right after each call of `append`, the WAL is on disk past where it ended before
    the call. An event committed without waiting stays unflushed until the WAL writer's next
    round (200 ms by default) or another session's synchronous commit: on a quiet server a call
    that does not flush fails this at once; a busy one can only make it pass."""
    for _ in range(attempts):
        before = _insert_lsn()
        append()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_flush_lsn() > %s::pg_lsn", [before])
            if not cursor.fetchone()[0]:
                return False
    return True


def _setting(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_event_is_committed_and_flushed_in_one_query(
    django_assert_num_queries,
):
    before = clock.now()
    with django_assert_num_queries(1):
        first = chain_append(BODY)
    second = chain_append({**BODY, "dataset_id": 8})
    stored = {e.seq: e for e in AuditEvent.objects.order_by("seq")}
    assert [first.seq, second.seq] == [1, 2]
    for event in (first, second):
        assert (stored[event.seq].prev_hash, stored[event.seq].hash) == (
            event.prev_hash,
            event.hash,
        )
    assert second.prev_hash == first.hash
    assert all(e.occurred_at >= before for e in (first, second))
    assert _flushed_past_each_of(lambda: chain_append(BODY))
    assert _setting("synchronous_commit") == "on"  # the session is left as it was
    assert chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_refused_event_raises_and_appends_nothing(refusing_audit_store):
    with pytest.raises(DatabaseError, match="audit store down"):
        chain_append(BODY)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_inside_a_transaction_the_event_joins_it_and_goes_with_its_rollback():
    with pytest.raises(RuntimeError), transaction.atomic():
        event = chain_append(BODY)
        assert AuditEvent.objects.filter(seq=event.seq).exists()
        raise RuntimeError
    assert not AuditEvent.objects.exists()


READ = "SELECT v FROM (VALUES ('{\"a\": 1}'), ('{\"a\": 2}')) AS t(v) WHERE v LIKE %s LIMIT 1"


def _body(event) -> dict:
    import orjson

    return orjson.loads(event.body)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("pattern", "expected"), [("%2%", '{"a": 2}'), ("%9%", None)])
def test_a_read_and_its_event_take_one_query_and_the_body_counts_the_rows(
    django_assert_num_queries, pattern, expected
):
    started = time.perf_counter() - 0.5
    with django_assert_num_queries(1):
        value, event = chain_append_read(BODY, READ, [pattern], started=started)
    assert value == expected
    stored = AuditEvent.objects.get(seq=event.seq)
    assert stored.body == event.body and stored.hash == event.hash
    body = _body(event)
    assert list(body)[-2:] == ["row_count", "duration_ms"]
    assert body["row_count"] == (0 if expected is None else 1)
    assert 500 <= body["duration_ms"] < 60_000
    assert chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_a_read_whose_event_is_refused_returns_nothing_and_leaves_the_session_usable(
    refusing_audit_store,
):
    with pytest.raises(DatabaseError, match="audit store down"):
        chain_append_read(BODY, READ, ["%2%"], started=time.perf_counter())
    assert _setting("synchronous_commit") == "on"
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_inside_a_transaction_a_read_appends_the_same_body_after_running():
    value, event = chain_append_read(BODY, READ, ["%1%"], started=time.perf_counter())
    assert value == '{"a": 1}'
    body = _body(event)
    assert list(body)[-2:] == ["row_count", "duration_ms"] and body["row_count"] == 1
    assert AuditEvent.objects.get(seq=event.seq).body == event.body


@pytest.mark.django_db(transaction=True)
def test_with_autocommit_off_the_event_waits_for_the_callers_commit():
    transaction.set_autocommit(False)
    try:
        chain_append(BODY)
        transaction.rollback()
    finally:
        transaction.set_autocommit(True)
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_read_and_its_event_are_on_disk_when_the_call_returns():
    assert _flushed_past_each_of(
        lambda: chain_append_read(BODY, READ, ["%2%"], started=time.perf_counter())
    )


@pytest.mark.django_db(transaction=True)
def test_nothing_of_a_read_stays_in_the_session_after_its_round_trip():
    value, _event = chain_append_read(BODY, READ, ["%2%"], started=time.perf_counter())
    assert value == '{"a": 2}'
    assert _setting("govdata.read") == "" and _setting("govdata.appended") == ""


@pytest.mark.django_db(transaction=True)
def test_the_flush_waits_for_the_disk_even_when_the_session_default_does_not():
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    try:
        assert _flushed_past_each_of(lambda: chain_append(BODY), attempts=1)
        assert _setting("synchronous_commit") == "off"  # the session's own choice is kept
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = on")


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_append_and_flush_are_prepared_once_per_connection(
    django_assert_num_queries,
):
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.__dict__.pop("_govdata_prepared", None)
    with django_assert_num_queries(1) as first:
        chain_append(BODY)
    assert first.captured_queries[0]["sql"].count("PREPARE ") == 2
    with django_assert_num_queries(1) as second:
        chain_append({**BODY, "dataset_id": 9})
    assert "PREPARE " not in second.captured_queries[0]["sql"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 2
    assert chain_verify().ok


@pytest.mark.django_db(transaction=True)
def test_with_prepared_statements_off_the_append_is_sent_as_text(settings):
    settings.GOVDATA = {**settings.GOVDATA, "PREPARED_STATEMENTS": False}
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    connection.__dict__.pop("_govdata_prepared", None)
    event = chain_append(BODY)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        prepared = cursor.fetchone()[0]
    assert event.seq == 1 and prepared == 0 and chain_verify().ok


def _stamped(when):
    import time_machine

    return time_machine.travel(when, tick=False)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("read", [False, True])
def test_an_event_stamped_before_the_month_of_the_last_one_is_chained_at_that_months_start(
    read,
):
    import datetime as dt

    with _stamped(dt.datetime(2024, 3, 1, 0, 0, 0, 500, tzinfo=dt.UTC)):
        march = chain_append(BODY)
    with _stamped(dt.datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=dt.UTC)):
        if read:
            _value, late = chain_append_read(BODY, READ, ["%1%"], started=time.perf_counter())
        else:
            late = chain_append(BODY)
    assert late.seq == march.seq + 1
    assert late.occurred_at == dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    assert AuditEvent.objects.get(seq=late.seq).occurred_at == late.occurred_at
    # Within a month, times are kept as the requests took them, in whatever order they chain.
    with _stamped(dt.datetime(2024, 3, 1, 0, 0, 0, 100, tzinfo=dt.UTC)):
        earlier = chain_append(BODY)
    assert earlier.occurred_at == dt.datetime(2024, 3, 1, 0, 0, 0, 100, tzinfo=dt.UTC)
    assert chain_verify().ok


@pytest.mark.django_db
def test_an_insert_that_would_chain_an_earlier_month_after_a_later_one_is_refused():
    import datetime as dt

    with _stamped(dt.datetime(2024, 3, 1, 0, 0, 0, 500, tzinfo=dt.UTC)):
        chain_append(BODY)
    refused = pytest.raises(DatabaseError, match="chained after an event of a later month")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_event (seq, occurred_at, body, prev_hash, hash)"
            " VALUES (0, %s, '{}', '', '')",
            [dt.datetime(2024, 2, 29, 23, 59, tzinfo=dt.UTC)],
        )
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("atomic", [False, True])
def test_a_read_that_only_serves_the_value_appends_its_event_without_building_it(atomic):
    block = transaction.atomic() if atomic else contextlib.nullcontext()
    with block:
        value, event = chain_append_read(
            BODY, READ, ["%2%"], started=time.perf_counter(), return_event=False
        )
    assert value == '{"a": 2}' and event is None
    stored = AuditEvent.objects.get()
    assert _body(stored)["row_count"] == 1 and chain_verify().ok
