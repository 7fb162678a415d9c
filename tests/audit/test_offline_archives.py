"""Archives and exports of a log whose oldest months are archived verify offline: an archive by
its detached signature, an export by its signed header, which vouches that it starts where
the archives end. Run as an auditor would, in a process where Django cannot be imported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from apps.audit.partitions import partition_archive, partitions_ensure
from apps.audit.services import audit_record_admin, checkpoint_create
from apps.audit.signing import public_key_pem
from tests.audit import offline
from tests.audit.offline import read_lines, run_offline

pytestmark = pytest.mark.django_db
isolated_libdir = offline.isolated_libdir  # the fixture
TZ = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def archived(audit_key, tmp_path):
    """January archived; its last events come after its last checkpoint (the next one was
    signed in February), so only the archive's own signature vouches for them."""
    with time_machine.travel(dt.datetime(2024, 1, 15, 10, tzinfo=TZ), tick=False):
        partitions_ensure(months_ahead=1)
        audit_record_admin(action="membership.add", target="user:0", details={})
        checkpoint_create()
        for n in range(1, 3):
            audit_record_admin(action="membership.add", target=f"user:{n}", details={})
    with time_machine.travel(dt.datetime(2024, 2, 10, 10, tzinfo=TZ), tick=False):
        audit_record_admin(action="membership.add", target="user:3", details={})
        checkpoint_create()
    archive = partition_archive(name="audit_event_202401")
    key = tmp_path / "key.pem"
    key.write_bytes(public_key_pem())
    return archive, key


def test_an_archive_is_vouched_for_by_its_detached_signature(archived, isolated_libdir):
    archive, key = archived
    code, verdict = run_offline(isolated_libdir, archive.path, "--public-key", str(key))
    assert (code, verdict["ok"], verdict["problems"]) == (0, True, [])
    assert verdict["last_seq"] == archive.last_seq > verdict["signed_through"]


def test_an_archive_without_its_signature_or_with_another_file_is_not_ok(
    archived, isolated_libdir, tmp_path
):
    archive, key = archived
    path = Path(archive.path)
    alone = tmp_path / "alone.ndjson"
    alone.write_bytes(path.read_bytes())
    code, verdict = run_offline(isolated_libdir, str(alone), "--public-key", str(key))
    assert (code, verdict["ok"]) == (1, False)
    assert verdict["problems"][-1].endswith("are not covered by a signed checkpoint")
    alone.write_bytes(path.read_bytes().replace(b"user:2", b"user:7"))
    code, verdict = run_offline(
        isolated_libdir, str(alone), "--public-key", str(key), "--signature", f"{path}.sig"
    )
    assert (code, verdict["ok"]) == (1, False)
    assert f"the detached signature {path}.sig does not match this file" in verdict["problems"]


def test_an_export_after_an_archive_is_vouched_for_from_where_the_archive_ends(
    archived, isolated_libdir, tmp_path
):
    archive, key = archived
    out = tmp_path / "log.ndjson"
    call_command("audit_export", str(out))
    header = read_lines(out)[0]
    assert (header["start_seq"], header["start_prev_hash"]) == (
        archive.last_seq + 1,
        archive.last_hash,
    )
    code, verdict = run_offline(isolated_libdir, str(out), "--public-key", str(key))
    assert (code, verdict["ok"], verdict["problems"]) == (0, True, [])
    assert verdict["notes"][0].startswith(f"events 1..{archive.last_seq} are not in this file")
