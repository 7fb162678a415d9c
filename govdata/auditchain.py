"""The audit log's hash chain: canonical form, hashing, signed messages, and an offline
verifier for exported logs.

This module must stay importable without Django or the database (only the standard library and
`cryptography`), so that an auditor can check an export on any machine:

    python govdata/auditchain.py export.ndjson --public-key key.pem

Each event's hash is SHA-256 over the previous hash, a newline and the event's canonical form
(see event_message). Checkpoints sign "sequence, head hash, time" with Ed25519; an export's
header signs where the export starts and ends (export_message). The hash chain alone proves
nothing (anyone can recompute it), so the offline verdict is `ok` only when every event in the
file is vouched for by a signature: docs/audit-verification.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

FORMAT = "govdata-audit/2"
GENESIS_HASH = "0" * 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # UTC, microseconds: what PostgreSQL keeps
MAX_PROBLEMS = 100


def format_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime(TIME_FORMAT)


def event_message(seq: int, time: str, body: str | bytes) -> bytes:
    """The canonical form of one event: its sequence number, time and body, where the body is
    the JSON text of the recorded attributes exactly as it was written and hashed (never
    re-serialised), exported verbatim. docs/audit-verification.md describes it for other
    implementations."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    return b"%d\n%s\n%s" % (seq, time.encode("ascii"), body)


def chain_hash(prev_hash: str | bytes, message: bytes) -> str:
    if isinstance(prev_hash, str):
        prev_hash = prev_hash.encode("ascii")
    return hashlib.sha256(prev_hash + b"\n" + message).hexdigest()


def checkpoint_message(seq: int, head_hash: str, signed_at: str) -> bytes:
    return f"govdata-audit-checkpoint/1\n{seq}\n{head_hash}\n{signed_at}".encode("ascii")


def export_message(start_seq: int, start_prev_hash: str, last_seq: int, signed_at: str) -> bytes:
    """What an export's header signs: the export holds events `start_seq`..`last_seq`, and the
    event before the first has hash `start_prev_hash`. A checkpoint cannot say this: one at
    `start_seq - 1` only proves that event's hash, not that the export was meant to begin after
    it, so a file cut at any checkpoint would pass."""
    return (
        f"govdata-audit-export/1\n{start_seq}\n{start_prev_hash}\n{last_seq}\n{signed_at}"
    ).encode("ascii")


@dataclass
class VerifyResult:
    ok: bool = True
    events_checked: int = 0
    first_bad_event: int | None = None
    problems: list[str] = field(default_factory=list)
    # Sequence numbers of the first and last event checked, and of the last event a valid
    # checkpoint matched (every event up to it is vouched for, unless reported otherwise).
    first_seq: int | None = None
    last_seq: int | None = None
    signed_through: int | None = None
    # What the verdict does not cover but an auditor must know (events outside the file).
    notes: list[str] = field(default_factory=list)

    def fail(self, seq: int, problem: str) -> None:
        self.ok = False
        if self.first_bad_event is None or seq < self.first_bad_event:
            self.first_bad_event = seq
        self._add(f"#{seq}: {problem}")

    def reject(self, problem: str) -> None:
        """A problem that is no event's: the file, its header or a line cannot be trusted."""
        self.ok = False
        self._add(problem)

    def _add(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "first_bad_event": self.first_bad_event,
        }


def signature_ok(public_key: Any, signature_hex: str, message: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        public_key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def checkpoint_signature_ok(public_key: Any, checkpoint: dict) -> bool:
    message = checkpoint_message(
        checkpoint["seq"], checkpoint["head_hash"], checkpoint["signed_at"]
    )
    return signature_ok(public_key, checkpoint["signature"], message)


class ChainVerifier:
    """Fed events in sequence order with `add`; `finish` returns the verdict. A problem is
    reported at the sequence number where the log first differs from what was written: a
    recomputed hash that differs (edited), a number skipped (deleted), repeated (inserted) or
    out of order (moved), a checkpoint whose signature or head hash does not match.

    An edit whose later hashes were all recomputed ("re-chained") leaves a consistent chain:
    only the first valid checkpoint after it disagrees, so that checkpoint is where it is
    reported, with the events since the last checkpoint that matched (one of them was changed;
    which one cannot be told without the original)."""

    def __init__(
        self,
        *,
        checkpoints: Iterable[dict] = (),
        public_key: Any = None,
        start_seq: int = 1,
        start_prev_hash: str = GENESIS_HASH,
        expected_last_seq: int | None = None,
        result: VerifyResult | None = None,
    ) -> None:
        self.result = VerifyResult() if result is None else result
        self.start_seq = start_seq
        self.expected, self.prev = start_seq, start_prev_hash.encode("ascii")
        self.expected_last_seq = expected_last_seq
        # The last checkpoint met (matching or not) and the last one that matched.
        self.last_checkpoint = self.last_matched = start_seq - 1
        self.by_seq: dict[int, list[dict]] = {}
        for checkpoint in checkpoints:
            if checkpoint["seq"] < start_seq - 1:
                continue  # covered by an archive that is verified on its own
            if public_key is not None and not checkpoint_signature_ok(public_key, checkpoint):
                self.result.fail(max(checkpoint["seq"], start_seq), "checkpoint signature invalid")
                continue
            self.by_seq.setdefault(checkpoint["seq"], []).append(checkpoint)
        for checkpoint in self.by_seq.pop(start_seq - 1, []):
            if checkpoint["head_hash"] != start_prev_hash:
                self.result.fail(start_seq, "checkpoint does not match the chain's start")

    def add(self, seq: int, message: bytes, stored_prev: bytes, stored_hash: bytes) -> None:
        result = self.result
        result.events_checked += 1
        if seq < self.expected:
            # A repeated or moved event: reported, and only checked against its own stored
            # predecessor, so that the events after it are still judged by the chain itself.
            result.fail(seq, "sequence number repeated or out of order")
            own = hashlib.sha256(stored_prev + b"\n" + message).hexdigest().encode("ascii")
            if own != stored_hash:
                result.fail(seq, "hash does not match the event's content and predecessor")
            return
        if seq > self.expected:
            result.fail(self.expected, f"events {self.expected}..{seq - 1} are missing")
            self.expected = seq
        computed = hashlib.sha256(self.prev + b"\n" + message).hexdigest().encode("ascii")
        if stored_prev != self.prev or computed != stored_hash:
            result.fail(seq, "hash does not match the event's content and predecessor")
        if seq in self.by_seq:
            self._checkpoints_at(seq, computed, stored_hash)
        # Continue from the stored hash so one edit is reported once, not at every later event.
        self.prev = stored_hash
        self.expected += 1

    def _checkpoints_at(self, seq: int, computed: bytes, stored_hash: bytes) -> None:
        self.last_checkpoint = seq
        for checkpoint in self.by_seq.pop(seq):
            if checkpoint["head_hash"].encode("ascii") != stored_hash or computed != stored_hash:
                self.result.fail(
                    seq,
                    "signed checkpoint does not match the event at this sequence: one or more "
                    f"of events {self.last_matched + 1}..{seq} differ from what was signed",
                )
            else:
                self.last_matched = self.result.signed_through = seq

    def finish(self) -> VerifyResult:
        result, last_seq = self.result, self.expected - 1
        if result.events_checked:
            result.first_seq, result.last_seq = self.start_seq, last_seq
        for seq in sorted(self.by_seq):
            if seq > last_seq:
                result.fail(last_seq + 1, f"a checkpoint covers event {seq}; the log ends earlier")
        expected_last = self.expected_last_seq
        if expected_last is not None and expected_last > last_seq:
            result.fail(last_seq + 1, f"the chain head is at {expected_last}; the log ends earlier")
        elif expected_last is not None and last_seq > expected_last:
            result.fail(expected_last + 1, f"events beyond the chain head ({expected_last})")
        return result


# --- Reading an export -----------------------------------------------------------------------


class MalformedRecord(ValueError):
    """A line that is no record of the export format (bad JSON, a member missing or of the
    wrong type): reported with its line number instead of a traceback."""


def _record(line: bytes) -> dict:
    try:
        record = json.loads(line)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
        raise MalformedRecord(f"not valid JSON ({exc})") from exc
    if not isinstance(record, dict):
        raise MalformedRecord("not a JSON object")
    return record


def _member(record: dict, name: str, kind: type) -> Any:
    if name not in record:
        raise MalformedRecord(f"`{name}` is missing")
    value = record[name]
    # bool is an int to Python, never a sequence number to us.
    if type(value) is not kind:
        raise MalformedRecord(f"`{name}` is not {'an integer' if kind is int else 'a string'}")
    if kind is str and not value.isascii() and name != "body":
        raise MalformedRecord(f"`{name}` is not ASCII")
    return value


def _header(line: bytes) -> dict:
    record = _record(line)
    if record.get("type") != "header" or record.get("format") != FORMAT:
        raise MalformedRecord(f"not a {FORMAT} export header")
    header = {
        "start_seq": _member(record, "start_seq", int) if "start_seq" in record else 1,
        "start_prev_hash": _member(record, "start_prev_hash", str)
        if "start_prev_hash" in record
        else GENESIS_HASH,
        "last_seq": None,
    }
    if record.get("last_seq") is not None:
        header["last_seq"] = _member(record, "last_seq", int)
    if header["start_seq"] < 1:
        raise MalformedRecord("`start_seq` is below 1")
    if "signature" in record:
        header["signature"] = _member(record, "signature", str)
        header["signed_at"] = _member(record, "signed_at", str)
    return header


def _checkpoint(record: dict) -> dict:
    return {
        "seq": _member(record, "seq", int),
        "head_hash": _member(record, "head_hash", str),
        "signed_at": _member(record, "signed_at", str),
        "signature": _member(record, "signature", str),
    }


def _event(record: dict) -> tuple[int, bytes, bytes, bytes]:
    seq = _member(record, "seq", int)
    time = _member(record, "time", str)
    body = _member(record, "body", str)
    prev_hash = _member(record, "prev_hash", str).encode("ascii")
    digest = _member(record, "hash", str).encode("ascii")
    try:
        message = event_message(seq, time, body)
    except UnicodeEncodeError as exc:  # a lone surrogate in the body
        raise MalformedRecord("`body` is not valid Unicode") from exc
    return seq, message, prev_hash, digest


@dataclass
class _Scan:
    """The first pass over an export: its header, checkpoints and digest. Checkpoints come
    after the events but must be known before them, and events are not kept in memory."""

    header: dict | None = None
    header_problem: str = f"not a {FORMAT} export header"
    checkpoints: list[dict] = field(default_factory=list)
    sha256: bytes = b""


def _scan(handle: BinaryIO, result: VerifyResult) -> _Scan:
    scan, digest = _Scan(), hashlib.sha256()
    for number, line in enumerate(handle, 1):
        digest.update(line)
        if number == 1:
            try:
                scan.header = _header(line)
            except MalformedRecord as exc:
                scan.header_problem = str(exc)
            continue
        try:
            # A cheap test first: only checkpoint lines are parsed in this pass (a body's
            # quotes are escaped, so an event never holds the word in quotes).
            if b'"checkpoint"' in line:
                record = _record(line)
                if record.get("type") == "checkpoint":
                    scan.checkpoints.append(_checkpoint(record))
        except MalformedRecord as exc:
            result.reject(f"line {number}: {exc}")
    scan.sha256 = digest.digest()
    return scan


def _events(handle: BinaryIO, result: VerifyResult) -> Iterable[tuple[int, bytes, bytes, bytes]]:
    for number, line in enumerate(handle, 1):
        if number == 1 or not line.strip():
            continue
        try:
            record = _record(line)
        except MalformedRecord as exc:
            if b'"checkpoint"' not in line:  # else the first pass reported it
                result.reject(f"line {number}: {exc}")
            continue
        try:
            kind = record.get("type")
            if kind == "event":
                yield _event(record)
            elif kind != "checkpoint":
                raise MalformedRecord(f"unknown record type {kind!r}")
        except MalformedRecord as exc:
            # The event is left out: the chain then reports it missing at its sequence number.
            result.reject(f"line {number}: {exc}")


def load_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def verify_export(
    path: str, public_key_pem: bytes | None, *, signature_path: str | None = None
) -> VerifyResult:
    """The verdict on one export file. `ok` means that the chain is intact and that every event
    in the file is vouched for by a valid signature of `public_key_pem`: a checkpoint at or
    after it, or the detached signature of the whole file (`signature_path`, by default
    `<path>.sig` if it exists: archives have one). A file that does not start at event 1 must
    say so in a signed header. Without a public key nothing is vouched for: never `ok`."""
    result = VerifyResult()
    public_key = None
    if public_key_pem is None:
        result.reject(
            "no public key given (--public-key): the chain was checked, but nothing in this "
            "file is vouched for by a signature"
        )
    else:
        try:
            public_key = load_public_key(public_key_pem)
        except ValueError as exc:
            result.reject(f"the public key cannot be read: {exc}")
    with open(path, "rb") as handle:
        scan = _scan(handle, result)
        if scan.header is None:
            result.reject(f"line 1: {scan.header_problem}")
            return result
        header = scan.header
        verifier = ChainVerifier(
            checkpoints=scan.checkpoints,
            public_key=public_key,
            start_seq=header["start_seq"],
            start_prev_hash=header["start_prev_hash"],
            expected_last_seq=header["last_seq"],
            result=result,
        )
        header_signed = _header_signed(header, public_key, result)
        file_signed = _file_signed(path, signature_path, scan.sha256, public_key, result)
        handle.seek(0)
        add = verifier.add
        for event in _events(handle, result):
            add(*event)
    verifier.finish()
    if public_key is not None:
        _judge_start(header, header_signed or file_signed, result)
        _judge_coverage(verifier.last_checkpoint, file_signed, result)
    return result


def _header_signed(header: dict, public_key: Any, result: VerifyResult) -> bool:
    if "signature" not in header or public_key is None:
        return False
    message = export_message(
        header["start_seq"],
        header["start_prev_hash"],
        header["last_seq"] if header["last_seq"] is not None else header["start_seq"] - 1,
        header["signed_at"],
    )
    if signature_ok(public_key, header["signature"], message):
        return True
    result.reject("line 1: the header's signature is invalid: its start and end were changed")
    return False


def _file_signed(
    path: str, signature_path: str | None, sha256: bytes, public_key: Any, result: VerifyResult
) -> bool:
    if signature_path is None:
        default = path + ".sig"
        if not os.path.exists(default):
            return False
        signature_path = default
    try:
        with open(signature_path, encoding="ascii") as handle:
            signature = handle.read().strip()
    except (OSError, ValueError) as exc:
        result.reject(f"the detached signature {signature_path} cannot be read: {exc}")
        return False
    if public_key is not None and signature_ok(public_key, signature, sha256):
        return True
    if public_key is not None:
        result.reject(f"the detached signature {signature_path} does not match this file")
    return False


def _judge_start(header: dict, start_signed: bool, result: VerifyResult) -> None:
    start_seq, start_prev = header["start_seq"], header["start_prev_hash"]
    if (start_seq, start_prev) == (1, GENESIS_HASH):
        return  # the chain's very beginning needs no one's word
    if start_signed:
        if start_seq > 1:
            result.notes.append(
                f"events 1..{start_seq - 1} are not in this file: the signed header vouches "
                f"that it starts at #{start_seq} after hash {start_prev}; they are in earlier "
                "archives or exports"
            )
        return
    missing = f"events 1..{start_seq - 1} are not in this file and its" if start_seq > 1 else "its"
    result.fail(
        1,
        f"{missing} start is not signed: nothing vouches that #{start_seq} follows hash "
        f"{start_prev}",
    )


def _judge_coverage(last_checkpoint: int, file_signed: bool, result: VerifyResult) -> None:
    """Events after the last valid checkpoint are vouched for by nothing (a checkpoint that
    does not match has been reported already, with the events before it)."""
    last = result.last_seq
    if last is None or file_signed or last_checkpoint >= last:
        return
    first = last_checkpoint + 1
    result.fail(first, f"events {first}..{last} are not covered by a signed checkpoint")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an exported GovData audit log offline.")
    parser.add_argument("export", help="NDJSON file written by `manage.py audit_export`")
    parser.add_argument(
        "--public-key",
        help="PEM file of the platform's signing key (without it the verdict is never ok)",
    )
    parser.add_argument(
        "--signature",
        help="detached signature of the whole file (hex); default: EXPORT.sig if it exists",
    )
    args = parser.parse_args(argv)
    pem = None
    try:
        if args.public_key:
            with open(args.public_key, "rb") as handle:
                pem = handle.read()
        result = verify_export(args.export, pem, signature_path=args.signature)
    except OSError as exc:
        result = VerifyResult()
        result.reject(f"cannot read {exc.filename}: {exc.strerror}")
    output = {
        **result.as_dict(),
        "first_seq": result.first_seq,
        "last_seq": result.last_seq,
        "signed_through": result.signed_through,
        "problems": result.problems,
        "notes": result.notes,
    }
    print(json.dumps(output, ensure_ascii=False))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
