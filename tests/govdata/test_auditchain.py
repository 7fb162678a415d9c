"""The chain verifier on its own (no Django, no database): what it reports, and where."""

from __future__ import annotations

import hashlib

from govdata.auditchain import GENESIS_HASH, ChainVerifier, event_message

TIME = "2026-11-02T10:00:00.000000Z"


def _chain(n: int) -> list[tuple[int, bytes, bytes, bytes]]:
    """(seq, message, prev_hash, hash) of n events chained as the database writes them."""
    events, prev = [], GENESIS_HASH.encode("ascii")
    for seq in range(1, n + 1):
        message = event_message(seq, TIME, f'{{"n":{seq}}}')
        digest = hashlib.sha256(prev + b"\n" + message).hexdigest().encode("ascii")
        events.append((seq, message, prev, digest))
        prev = digest
    return events


def _verify(events, **kw):
    verifier = ChainVerifier(**kw)
    for event in events:
        verifier.add(*event)
    return verifier.finish()


def _reported(result) -> set[int]:
    return {int(p.split(":")[0].lstrip("#")) for p in result.problems}


def test_an_intact_chain_verifies():
    result = _verify(_chain(6), expected_last_seq=6)
    assert result.ok and result.events_checked == 6 and result.problems == []


def test_two_events_out_of_order_are_reported_and_nothing_after_them():
    events = _chain(6)
    events[2], events[3] = events[3], events[2]
    result = _verify(events, expected_last_seq=6)
    assert not result.ok and result.first_bad_event == 3
    assert _reported(result) == {3, 4}


def test_a_repeated_event_is_reported_once_and_the_rest_still_verifies():
    events = _chain(6)
    events.insert(3, events[2])
    result = _verify(events, expected_last_seq=6)
    assert result.first_bad_event == 3
    assert _reported(result) == {3}
    assert not any("beyond the chain head" in p for p in result.problems)


def test_an_edited_moved_event_is_also_reported_as_edited():
    events = _chain(6)
    seq, message, prev, digest = events[2]
    events[2], events[3] = events[3], (seq, message + b"x", prev, digest)
    result = _verify(events, expected_last_seq=6)
    assert any(p.startswith("#3: hash does not match") for p in result.problems)
    assert _reported(result) == {3, 4}


def test_a_missing_event_is_reported_at_its_number():
    events = _chain(6)
    del events[3]
    result = _verify(events, expected_last_seq=6)
    assert result.first_bad_event == 4 and "events 4..4 are missing" in result.problems[0]
