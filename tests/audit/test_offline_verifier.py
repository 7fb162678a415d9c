"""The exported log verifies offline, in a process where Django cannot even be imported."""

import json

import pytest
from django.core.management import call_command

from apps.audit.models import AuditEvent
from apps.audit.services import audit_record_admin, checkpoint_create
from tests.audit import offline
from tests.audit.conftest import record_read
from tests.audit.offline import run_offline

pytestmark = pytest.mark.django_db
isolated_libdir = offline.isolated_libdir  # the fixture


@pytest.fixture
def exported(world, tmp_path):
    for i in range(4):
        record_read(world, request_id=f"r{i}", filters={"district__in": ["天河区", "越秀区"]})
    audit_record_admin(
        action="grant.revoke",
        actor=world.provider_officer,
        department=world.provider,
        target="grant:1",
        details={"reason": "到期", "fields": ["name"], "n": 2},
    )
    checkpoint_create()
    record_read(world, request_id="after-checkpoint", duration_ms=0.1)
    out, key = tmp_path / "export.ndjson", tmp_path / "key.pem"
    call_command("audit_export", str(out), public_key=str(key))
    return out, key


def test_export_verifies_offline_without_django(exported, isolated_libdir):
    out, key = exported
    code, result = run_offline(isolated_libdir, str(out), "--public-key", str(key))
    assert (code, result["ok"], result["events_checked"]) == (0, True, AuditEvent.objects.count())


def test_offline_verifier_reports_an_edited_export_line(exported, isolated_libdir):
    out, key = exported
    lines = out.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if "张三" in line)
    edited = json.loads(lines[index])
    edited["body"] = edited["body"].replace("张三", "李四")
    assert "李四" in edited["body"]
    lines[index] = json.dumps(edited, ensure_ascii=False)
    out.write_text("\n".join(lines) + "\n")
    code, result = run_offline(isolated_libdir, str(out), "--public-key", str(key))
    assert (code, result["ok"], result["first_bad_event"]) == (1, False, edited["seq"])


def test_offline_verifier_reports_a_removed_line_and_a_foreign_key(exported, isolated_libdir):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    out, key = exported
    lines = out.read_text().splitlines()
    removed = json.loads(lines.pop(2))
    out.write_text("\n".join(lines) + "\n")
    code, result = run_offline(isolated_libdir, str(out), "--public-key", str(key))
    assert (code, result["first_bad_event"]) == (1, removed["seq"])
    key.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    code, result = run_offline(isolated_libdir, str(out), "--public-key", str(key))
    assert result["ok"] is False


def test_offline_verifier_reports_a_log_cut_back_below_its_last_checkpoint(
    world, tmp_path, isolated_libdir
):
    from tests.audit.insider import insider_sql

    for i in range(4):
        record_read(world, request_id=f"r{i}")
    checkpoint = checkpoint_create()
    # An insider removes the last two events and moves the chain head back to match.
    last = checkpoint.seq
    insider_sql("DELETE FROM audit_event WHERE seq > %s", [last - 2])
    insider_sql(
        "UPDATE audit_chain_head SET seq = %s,"
        " hash = (SELECT hash FROM audit_event WHERE seq = %s)",
        [last - 2, last - 2],
    )
    out, key = tmp_path / "export.ndjson", tmp_path / "key.pem"
    call_command("audit_export", str(out), public_key=str(key))
    code, result = run_offline(isolated_libdir, str(out), "--public-key", str(key))
    assert (code, result["ok"], result["first_bad_event"]) == (1, False, last - 1)
