"""The platform auditor downloads the log as the signed NDJSON export that `manage.py
audit_export` writes, streamed, recorded as an administrative event; nobody else may."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.template import Context, Template
from django.test import RequestFactory
from rest_framework.test import APIClient

from apps.audit import export
from apps.audit.models import AuditEvent
from apps.audit.services import checkpoint_create
from apps.audit.signing import public_key_pem
from tests.api.conftest import app_client
from tests.audit import offline
from tests.audit.conftest import record_read
from tests.audit.insider import insider_sql
from tests.audit.offline import run_offline

pytestmark = pytest.mark.django_db
isolated_libdir = offline.isolated_libdir  # the fixture
URL = "/api/v1/audit/export/"


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def download(user, query: str = "") -> bytes:
    response = client_for(user).get(URL + query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="audit-log-')
    return b"".join(response.streaming_content)


@pytest.fixture
def reads(world):
    return [record_read(world, request_id=f"r{i}").seq for i in range(5)]


def test_only_the_platform_auditor_may_download_the_export(world, reads):
    assert client_for(world.platform_auditor).get(URL).status_code == 200
    # A department auditor's share cannot be chain-verified alone, and the rest is not theirs.
    for user in (world.provider_auditor, world.consumer_officer, world.provider_officer):
        assert client_for(user).get(URL).status_code == 403
    assert client_for().get(URL).status_code == 401
    # An agency application's token, whatever its scopes, is no person.
    assert app_client(world.consumer, scopes="read requests").get(URL).status_code == 403


def test_the_download_is_what_audit_export_writes_and_verifies_offline(
    world, reads, tmp_path, isolated_libdir
):
    body = download(world.platform_auditor)
    downloaded = tmp_path / "download.ndjson"
    downloaded.write_bytes(body)
    key = tmp_path / "key.pem"
    key.write_bytes(public_key_pem())
    code, verdict = run_offline(isolated_libdir, str(downloaded), "--public-key", str(key))
    assert (code, verdict["ok"], verdict["problems"]) == (0, True, [])
    assert verdict["events_checked"] == AuditEvent.objects.count()
    # The command writes the same lines; only the header's signing time (and so its
    # signature) differs.
    written = tmp_path / "command.ndjson"
    call_command("audit_export", str(written))
    ours, theirs = body.splitlines(), written.read_bytes().splitlines()
    assert ours[1:] == theirs[1:]
    unsigned = [
        {k: v for k, v in json.loads(h).items() if k not in ("signed_at", "signature")}
        for h in (ours[0], theirs[0])
    ]
    assert unsigned[0] == unsigned[1]


def test_the_download_is_recorded_before_it_streams_and_is_in_the_export(world, reads):
    response = client_for(world.platform_auditor).get(URL + f"?from_seq={reads[1]}")
    event = AuditEvent.objects.order_by("-seq").first()
    assert (event.kind, event.action, event.target) == ("admin", "audit.export", "audit-log")
    assert event.username == world.platform_auditor.username
    assert event.details == {"from_seq": reads[1]}
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    events = [line for line in lines if line["type"] == "event"]
    assert events[0]["seq"] == reads[1]
    assert events[-1]["seq"] == event.seq
    assert lines[-1] == {**lines[-1], "type": "checkpoint", "seq": event.seq}


def test_a_download_of_part_of_the_log_ends_at_the_next_checkpoint(world, reads):
    checkpoint = checkpoint_create()
    record_read(world, request_id="later")
    lines = download(world.platform_auditor, f"?from_seq={reads[1]}&to_seq={reads[2]}")
    records = [json.loads(line) for line in lines.splitlines()]
    header, events = records[0], [r for r in records if r["type"] == "event"]
    assert (header["start_seq"], header["last_seq"]) == (reads[1], checkpoint.seq)
    assert [e["seq"] for e in events] == list(range(reads[1], checkpoint.seq + 1))
    assert [r["seq"] for r in records if r["type"] == "checkpoint"] == [checkpoint.seq]


def test_a_download_by_time_takes_the_events_of_that_time(world, reads):
    since = AuditEvent.objects.get(seq=reads[2]).occurred_at.isoformat()
    lines = download(world.platform_auditor, "?" + f"since={since}".replace("+", "%2B"))
    header = json.loads(lines.splitlines()[0])
    assert header["start_seq"] == reads[2]


@pytest.mark.parametrize(
    "query",
    [
        "?from_seq=1&since=2026-01-01",
        "?from_seq=999999",
        "?from_seq=5&to_seq=4",
        "?since=2999-01-01",
        "?until=2000-01-01",
        "?from_seq=0",
        "?since=yesterday",
        f"?to_seq={2**64}",  # past the bigint sequence: was a 500 writing the event
        "?until=9999-12-31",  # the day after it does not exist: was a 500
        "?dataset=GA-RK-001",  # not a parameter of the export: was the whole log
        "?from_seq=1&from_seq=2",
    ],
)
def test_a_range_that_holds_no_event_is_a_400_and_not_recorded(world, reads, query):
    before = AuditEvent.objects.count()
    response = client_for(world.platform_auditor).get(URL + query)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert AuditEvent.objects.count() == before


def test_the_export_is_streamed_in_chunks_keeping_rows_that_share_a_sequence_number(
    world, reads, monkeypatch, tmp_path, isolated_libdir
):
    monkeypatch.setattr(export, "CHUNK_EVENTS", 2)
    # An insider's copy of an event, with the same sequence number, at a chunk's edge.
    insider_sql(
        "INSERT INTO audit_event (seq, occurred_at, body, prev_hash, hash)"
        " SELECT seq, occurred_at + interval '1 microsecond', body, prev_hash, hash"
        " FROM audit_event WHERE seq = %s",
        [reads[2]],
    )
    response = client_for(world.platform_auditor).get(URL)
    chunks = list(response.streaming_content)
    events = [
        json.loads(line)["seq"]
        for chunk in chunks
        for line in chunk.splitlines()
        if b'"type":"event"' in line
    ]
    assert len(chunks) > len(events) // 2
    assert sorted(events) == events and events.count(reads[2]) == 2
    out, key = tmp_path / "log.ndjson", tmp_path / "key.pem"
    out.write_bytes(b"".join(chunks))
    key.write_bytes(public_key_pem())
    code, verdict = run_offline(isolated_libdir, str(out), "--public-key", str(key))
    assert (code, verdict["first_bad_event"]) == (1, reads[2])


def test_the_console_link_is_shown_to_the_platform_auditor_only(world):
    template = Template("{% load audit_export %}{% audit_export_link %}")
    request = RequestFactory().get("/admin/audit/auditevent/verify/")
    request.user = world.platform_auditor
    assert URL in template.render(Context({"request": request}))
    request.user = world.provider_auditor
    assert template.render(Context({"request": request})) == ""


def test_head_is_not_an_export(world, reads):
    before = AuditEvent.objects.count()
    response = client_for(world.platform_auditor).head(URL)
    assert response.status_code == 405
    assert AuditEvent.objects.count() == before


def test_until_a_date_takes_that_whole_day_as_the_events_api_does(world, reads):
    from django.utils import timezone

    today = timezone.localdate().isoformat()  # the platform's zone
    lines = download(world.platform_auditor, f"?until={today}").splitlines()
    seqs = [json.loads(line).get("seq") for line in lines]
    assert max(s for s in seqs if s is not None) >= max(reads)
