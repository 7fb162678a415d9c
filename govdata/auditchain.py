"""The audit log's hash chain: canonical form, hashing, checkpoint messages, and an offline
verifier for exported logs.

This module must stay importable without Django or the database (only the standard library and
`cryptography`), so that an auditor can check an export on any machine:

    python govdata/auditchain.py export.ndjson --public-key key.pem

Each event's hash is SHA-256 over the previous hash, a newline and the event's canonical form
(see event_message). Checkpoints sign "sequence, head hash, time" with Ed25519.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

FORMAT = "govdata-audit/2"
GENESIS_HASH = "0" * 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # UTC, microseconds: what PostgreSQL keeps


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


@dataclass
class VerifyResult:
    ok: bool = True
    events_checked: int = 0
    first_bad_event: int | None = None
    problems: list[str] = field(default_factory=list)

    def fail(self, seq: int, problem: str) -> None:
        self.ok = False
        if self.first_bad_event is None or seq < self.first_bad_event:
            self.first_bad_event = seq
        if len(self.problems) < 100:
            self.problems.append(f"#{seq}: {problem}")

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "first_bad_event": self.first_bad_event,
        }


def checkpoint_signature_ok(public_key, checkpoint: dict) -> bool:
    from cryptography.exceptions import InvalidSignature

    message = checkpoint_message(
        checkpoint["seq"], checkpoint["head_hash"], checkpoint["signed_at"]
    )
    try:
        public_key.verify(bytes.fromhex(checkpoint["signature"]), message)
    except (InvalidSignature, ValueError):
        return False
    return True


class ChainVerifier:
    """Fed events in sequence order with `add`; `finish` returns the verdict. A problem is
    reported at the sequence number where the log first differs from what was written: a
    recomputed hash that differs (edited), a number skipped (deleted), repeated (inserted) or
    out of order (moved), a checkpoint whose signature or head hash does not match."""

    def __init__(
        self,
        *,
        checkpoints: Iterable[dict] = (),
        public_key=None,
        start_seq: int = 1,
        start_prev_hash: str = GENESIS_HASH,
        expected_last_seq: int | None = None,
    ) -> None:
        self.result = VerifyResult()
        self.expected, self.prev = start_seq, start_prev_hash.encode("ascii")
        self.expected_last_seq = expected_last_seq
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
            for checkpoint in self.by_seq.pop(seq):
                if (
                    checkpoint["head_hash"].encode("ascii") != stored_hash
                    or computed != stored_hash
                ):
                    result.fail(seq, "signed checkpoint does not match the event at this sequence")
        # Continue from the stored hash so one edit is reported once, not at every later event.
        self.prev = stored_hash
        self.expected += 1

    def finish(self) -> VerifyResult:
        result, last_seq = self.result, self.expected - 1
        for seq in sorted(self.by_seq):
            if seq > last_seq:
                result.fail(last_seq + 1, f"a checkpoint covers event {seq}; the log ends earlier")
        expected_last = self.expected_last_seq
        if expected_last is not None and expected_last > last_seq:
            result.fail(last_seq + 1, f"the chain head is at {expected_last}; the log ends earlier")
        elif expected_last is not None and last_seq > expected_last:
            result.fail(expected_last + 1, f"events beyond the chain head ({expected_last})")
        return result


def read_export(lines: Iterable[bytes | str]) -> tuple[dict, Iterator[dict], list[dict]]:
    """Split an NDJSON export into its header, event records and checkpoints."""
    records = [json.loads(line) for line in lines if line.strip()]
    header = records[0] if records and records[0].get("type") == "header" else {}
    if header.get("format") != FORMAT:
        raise ValueError(f"unsupported export format {header.get('format')!r}")
    checkpoints = [r for r in records if r.get("type") == "checkpoint"]
    return header, (r for r in records if r.get("type") == "event"), checkpoints


def load_public_key(pem: bytes):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem)


def verify_export(path: str, public_key_pem: bytes | None) -> VerifyResult:
    with open(path, "rb") as handle:
        header, events, checkpoints = read_export(handle)
    public_key = load_public_key(public_key_pem) if public_key_pem else None
    verifier = ChainVerifier(
        checkpoints=checkpoints,
        public_key=public_key,
        start_seq=header.get("start_seq", 1),
        start_prev_hash=header.get("start_prev_hash", GENESIS_HASH),
        expected_last_seq=header.get("last_seq"),
    )
    for event in events:
        verifier.add(
            event["seq"],
            event_message(event["seq"], event["time"], event["body"]),
            event["prev_hash"].encode("ascii"),
            event["hash"].encode("ascii"),
        )
    result = verifier.finish()
    if public_key is None:
        result.problems.append("no public key given: checkpoint signatures were not checked")
    elif not checkpoints and result.events_checked:
        result.problems.append("the export holds no checkpoint: nothing vouches for its head")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Verify an exported GovData audit log offline.")
    parser.add_argument("export", help="NDJSON file written by `manage.py audit_export`")
    parser.add_argument("--public-key", help="PEM file of the platform's checkpoint key")
    args = parser.parse_args(argv)
    pem = None
    if args.public_key:
        with open(args.public_key, "rb") as handle:
            pem = handle.read()
    result = verify_export(args.export, pem)
    print(json.dumps({**result.as_dict(), "problems": result.problems}, ensure_ascii=False))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
