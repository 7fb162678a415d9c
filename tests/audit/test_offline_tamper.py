"""What the offline verifier says about an export someone changed after it left the platform.
The hash chain alone proves nothing (anyone can recompute it): `ok` means that every event in
the file is vouched for by a signature of the given key, and a file that does not start at
event 1 says so in a signed header. Each case runs govdata/auditchain.py as an auditor would,
in a process where Django cannot be imported."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.audit.models import AuditEvent, Checkpoint
from apps.audit.services import checkpoint_create
from govdata.auditchain import event_message
from tests.audit import offline
from tests.audit.conftest import record_read
from tests.audit.offline import read_lines, run_offline, write_lines

pytestmark = pytest.mark.django_db
isolated_libdir = offline.isolated_libdir  # the fixture


@pytest.fixture
def export(world, tmp_path):
    """An export whose events go on after the last checkpoint the beat task signed: `beat` is
    that checkpoint's sequence number, `reads` the events written after it."""
    for i in range(4):
        record_read(world, request_id=f"r{i}")
    beat = checkpoint_create().seq
    reads = [record_read(world, request_id=f"late{i}").seq for i in range(3)]
    out, key = tmp_path / "export.ndjson", tmp_path / "key.pem"
    call_command("audit_export", str(out), public_key=str(key))
    return out, key, beat, reads


def verify(libdir: Path, out: Path, key: Path | None) -> tuple[int, dict]:
    args = [str(out)] + (["--public-key", str(key)] if key else [])
    return run_offline(libdir, *args)


def events_of(records: list[dict]) -> list[dict]:
    return [r for r in records if r["type"] == "event"]


def edit_and_rechain(records: list[dict], seq: int) -> None:
    """Change event `seq` and recompute every later hash, as anyone can without a key."""
    events = events_of(records)
    index = next(i for i, e in enumerate(events) if e["seq"] == seq)
    edited = events[index]["body"].replace('"late', '"LATE').replace('"r', '"R', 1)
    assert edited != events[index]["body"]
    events[index]["body"] = edited
    prev = events[index]["prev_hash"]
    for event in events[index:]:
        event["prev_hash"] = prev
        message = event_message(event["seq"], event["time"], event["body"])
        event["hash"] = prev = hashlib.sha256(prev.encode() + b"\n" + message).hexdigest()


def test_a_fresh_export_is_vouched_for_to_its_last_event_by_the_checkpoint_it_signs(
    export, isolated_libdir
):
    out, key, beat, reads = export
    code, verdict = verify(isolated_libdir, out, key)
    last = AuditEvent.objects.order_by("-seq").first().seq
    assert (code, verdict["ok"], verdict["problems"]) == (0, True, [])
    assert verdict["signed_through"] == verdict["last_seq"] == last > beat
    # The export's checkpoint is one like the beat task's, kept in the database.
    assert Checkpoint.objects.filter(seq=last).exists()
    assert read_lines(out)[-1] == {"type": "checkpoint", **read_lines(out)[-1]}
    assert read_lines(out)[-1]["seq"] == last


def test_a_rechained_edit_with_the_checkpoints_removed_is_not_ok(export, isolated_libdir):
    out, key, beat, reads = export
    records = read_lines(out)
    first = events_of(records)[0]["seq"]
    edit_and_rechain(records, first + 2)
    write_lines(out, [r for r in records if r["type"] != "checkpoint"])
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"], verdict["first_bad_event"]) == (1, False, first)
    last = events_of(records)[-1]["seq"]
    assert (
        f"#{first}: events {first}..{last} are not covered by a signed checkpoint"
        in (verdict["problems"])
    )


def test_without_a_public_key_no_export_is_ok(export, isolated_libdir):
    out, key, beat, reads = export
    code, verdict = verify(isolated_libdir, out, None)
    assert (code, verdict["ok"]) == (1, False)
    assert verdict["problems"][0].startswith("no public key given")


def test_an_edit_after_the_last_checkpoint_is_reported_as_not_covered(export, isolated_libdir):
    out, key, beat, reads = export
    records = read_lines(out)
    edit_and_rechain(records, reads[1])
    # The export's own checkpoint (the last line) would catch it: the forger drops it.
    write_lines(out, [r for r in records if not (r["type"] == "checkpoint" and r["seq"] > beat)])
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"], verdict["first_bad_event"]) == (1, False, beat + 1)
    assert verdict["signed_through"] == beat
    assert (
        f"#{beat + 1}: events {beat + 1}..{reads[-1]} are not covered by a signed checkpoint"
        in (verdict["problems"])
    )


def test_a_log_cut_short_after_its_last_checkpoint_is_reported(export, isolated_libdir):
    out, key, beat, reads = export
    records = read_lines(out)
    kept = [
        r
        for r in records
        if not (r["type"] == "event" and r["seq"] > reads[0])
        and not (r["type"] == "checkpoint" and r["seq"] > reads[0])
    ]
    kept[0]["last_seq"] = reads[0]  # the forger fixes the header too
    write_lines(out, kept)
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"]) == (1, False)
    assert (
        "line 1: the header's signature is invalid: its start and end were changed"
        in (verdict["problems"])
    )
    assert (
        f"#{beat + 1}: events {beat + 1}..{reads[0]} are not covered by a signed checkpoint"
        in (verdict["problems"])
    )


def test_a_rechained_edit_is_reported_at_the_first_checkpoint_after_it_with_the_events_in_doubt(
    export, isolated_libdir
):
    out, key, beat, reads = export
    records = read_lines(out)
    first = events_of(records)[0]["seq"]
    edit_and_rechain(records, beat - 1)
    write_lines(out, records)
    code, verdict = verify(isolated_libdir, out, key)
    # Which event was changed cannot be told without the original: the checkpoint that no
    # longer matches is reported, with every event since the last checkpoint that matched.
    assert (code, verdict["first_bad_event"]) == (1, beat)
    assert verdict["problems"][0] == (
        f"#{beat}: signed checkpoint does not match the event at this sequence: one or more of "
        f"events {first}..{beat} differ from what was signed"
    )


def test_an_export_whose_first_events_were_cut_and_header_moved_is_not_ok(export, isolated_libdir):
    out, key, beat, reads = export
    records = read_lines(out)
    events = events_of(records)
    cut = events[3]["seq"]
    header = {**records[0], "start_seq": cut + 1, "start_prev_hash": events[3]["hash"]}
    rest = [r for r in records[1:] if r["type"] != "event" or r["seq"] > cut]
    write_lines(out, [header, *rest])
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"], verdict["first_bad_event"]) == (1, False, 1)
    assert (
        "line 1: the header's signature is invalid: its start and end were changed"
        in (verdict["problems"])
    )
    assert verdict["problems"][-1].startswith(
        f"#1: events 1..{cut} are not in this file and its start is not signed"
    )
    # Without the header's signature at all, the same.
    del header["signature"], header["signed_at"]
    write_lines(out, [header, *rest])
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"], verdict["first_bad_event"]) == (1, False, 1)
    assert verdict["problems"] == [
        f"#1: events 1..{cut} are not in this file and its start is not signed: nothing vouches "
        f"that #{cut + 1} follows hash {events[3]['hash']}"
    ]


def test_a_file_cut_at_a_checkpoint_is_not_vouched_for_by_that_checkpoint(export, isolated_libdir):
    # A checkpoint at the new start only proves that event's hash, not that an export began
    # there: cutting at a checkpoint must not pass either.
    out, key, beat, reads = export
    records = read_lines(out)
    head_hash = next(r for r in records if r["type"] == "checkpoint" and r["seq"] == beat)
    header = {k: v for k, v in records[0].items() if k not in ("signature", "signed_at")} | {
        "start_seq": beat + 1,
        "start_prev_hash": head_hash["head_hash"],
    }
    rest = [r for r in records[1:] if r["type"] != "event" or r["seq"] > beat]
    write_lines(out, [header, *rest])
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"], verdict["first_bad_event"]) == (1, False, 1)


def test_an_export_that_starts_later_is_ok_and_says_which_events_it_leaves_out(
    world, tmp_path, isolated_libdir
):
    reads = [record_read(world, request_id=f"r{i}").seq for i in range(5)]
    out, key = tmp_path / "part.ndjson", tmp_path / "key.pem"
    call_command("audit_export", str(out), public_key=str(key), from_seq=reads[2])
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"], verdict["first_seq"]) == (0, True, reads[2])
    assert verdict["notes"][0].startswith(
        f"events 1..{reads[2] - 1} are not in this file: the signed header vouches that it starts"
    )


def test_an_export_that_ends_early_runs_on_to_the_next_checkpoint(world, tmp_path, isolated_libdir):
    reads = [record_read(world, request_id=f"r{i}").seq for i in range(5)]
    checkpoint_create()
    record_read(world, request_id="after")
    out, key = tmp_path / "part.ndjson", tmp_path / "key.pem"
    call_command("audit_export", str(out), public_key=str(key), from_seq=reads[0], to_seq=reads[1])
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"]) == (0, True), verdict
    assert (verdict["first_seq"], verdict["last_seq"]) == (reads[0], reads[-1])
    assert verdict["signed_through"] == reads[-1]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda e: e.update(seq=str(e["seq"])), "`seq` is not an integer"),
        (lambda e: e.pop("hash"), "`hash` is missing"),
        (lambda e: e.update(body=12), "`body` is not a string"),
        (lambda e: e.update(time="2026-11-26T02:15:07.123456Z\u00e9"), "`time` is not ASCII"),
        (lambda e: e.update(seq=True), "`seq` is not an integer"),
    ],
)
def test_a_malformed_event_line_gives_a_verdict_naming_the_line(
    export, isolated_libdir, mutate, expected
):
    out, key, beat, reads = export
    records = read_lines(out)
    index = next(i for i, r in enumerate(records) if r["type"] == "event" and r["seq"] == reads[0])
    mutate(records[index])
    write_lines(out, records)
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"]) == (1, False)
    assert f"line {index + 1}: {expected}" in verdict["problems"]
    assert verdict["first_bad_event"] == reads[0]  # left out: reported missing


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b"{not json\n", "not valid JSON"),
        (b"[1, 2]\n", "not a JSON object"),
        (b'{"type": "event", "seq": 1, "body": "\xff"}\n', "not valid JSON"),
        (b'{"type": "note"}\n', "unknown record type 'note'"),
    ],
)
def test_a_line_that_is_no_record_gives_a_verdict_naming_it(
    export, isolated_libdir, line, expected
):
    out, key, beat, reads = export
    lines = out.read_bytes().splitlines(keepends=True)
    lines.insert(2, line)
    out.write_bytes(b"".join(lines))
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"]) == (1, False)
    assert any(p.startswith(f"line 3: {expected}") for p in verdict["problems"]), verdict


def test_a_file_without_a_header_or_a_readable_key_gives_a_verdict(export, isolated_libdir):
    out, key, beat, reads = export
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[1:]))
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["problems"]) == (1, ["line 1: not a govdata-audit/2 export header"])
    key.write_text("not a key")
    out.write_bytes(b"".join(lines))
    code, verdict = verify(isolated_libdir, out, key)
    assert (code, verdict["ok"]) == (1, False)
    assert verdict["problems"][0].startswith("the public key cannot be read")
    code, verdict = verify(isolated_libdir, out.with_name("missing.ndjson"), None)
    assert code == 1 and verdict["problems"][0].startswith("cannot read ")
