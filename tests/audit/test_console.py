"""The auditors' console in the admin: search, detail, charts, CSV, verification, alerts."""

import pytest

from apps.audit import labels
from apps.audit.chain import chain_append
from apps.audit.models import BODY_KEYS, Alert, AuditEvent
from apps.audit.services import ACCESS_ACTIONS
from apps.common import clock
from tests.audit.conftest import record_read

pytestmark = pytest.mark.django_db
BASE = "/admin/audit/auditevent/"


@pytest.fixture
def reads(world):
    return [
        record_read(world, request_id="c1", end_user="王五"),
        record_read(world, request_id="c2", outcome="denied", reason="no grant", end_user="赵六"),
    ]


def test_search_filters_by_end_user(client, world, reads):
    client.force_login(world.provider_auditor)
    response = client.get(BASE, {"end_user": "王五"})
    assert response.status_code == 200
    content = response.content.decode()
    assert f">{reads[0].seq}</a>" in content and f">{reads[1].seq}</a>" not in content


def test_detail_shows_the_event_and_its_hash(client, world, reads):
    client.force_login(world.platform_auditor)
    response = client.get(f"{BASE}{reads[1].seq}/")
    assert response.status_code == 200
    assert reads[1].hash in response.content.decode()


def test_detail_shows_human_labels_next_to_the_recorded_keys_and_values(client, world, reads):
    client.force_login(world.platform_auditor)
    content = client.get(f"{BASE}{reads[1].seq}/").content.decode()
    for label, key, value in [
        ("Consumer department ID", "consumer_id", f"<td>{world.consumer.pk}</td>"),
        ("Grants relied on", "grant_ids", "<td>[1, 3]</td>"),
        ("Rows returned", "row_count", "<td>10</td>"),
        ("Duration (ms)", "duration_ms", "<td>12.5</td>"),
        ("End user", "end_user", "<td>赵六</td>"),
        ("Client IP address", "client_ip", "<td>10.0.0.1</td>"),
        ("Reason", "reason", "<td>no grant</td>"),
    ]:
        assert f'<th>{label} <code class="quiet">{key}</code></th>' in content
        assert value in content
    # Enumerated values: the label, and the recorded value unchanged beside it.
    assert 'Denied <code class="quiet">denied</code>' in content
    assert 'Record list <code class="quiet">list</code>' in content
    assert 'Data access <code class="quiet">access</code>' in content
    assert "<th>consumer_id</th>" not in content


def test_detail_shows_a_key_without_a_label_as_recorded(client, world, reads):
    event = chain_append({**reads[0].data, "retention_class": "B-7", "action": "bulk_sync"})
    client.force_login(world.platform_auditor)
    content = client.get(f"{BASE}{event.seq}/").content.decode()
    assert "<th><code>retention_class</code></th>" in content and "<td>B-7</td>" in content
    assert "<td>bulk_sync</td>" in content  # an action without a label: as recorded
    assert 'Allowed <code class="quiet">allowed</code>' in content


def test_search_shows_labelled_actions_and_outcomes(client, world, reads):
    client.force_login(world.platform_auditor)
    content = client.get(BASE).content.decode()
    assert 'Record list <code class="quiet">list</code>' in content
    assert 'Denied <code class="quiet">denied</code>: no grant' in content


def test_labels_cover_every_body_key_and_enumerated_value():
    assert set(labels.KEY_LABELS) == BODY_KEYS
    assert set(ACCESS_ACTIONS) <= set(labels.ACTION_LABELS)
    assert labels.value_label("outcome", "denied") == AuditEvent.Outcome.DENIED.label
    assert labels.value_label("kind", "admin") == AuditEvent.Kind.ADMIN.label
    assert labels.value_label("outcome", "") is None
    assert labels.value_label("purpose", "denied") is None
    assert labels.key_label("retention_class") == "retention_class"
    assert [item.key for item in labels.body_items({"zz": 1, "aa": 2, "outcome": "x"})] == [
        "outcome",
        "aa",
        "zz",
    ]


def test_chart_series_keep_the_recorded_value_and_never_merge():
    denied = str(AuditEvent.Outcome.DENIED.label)
    series = labels.labelled_series({"denied": [1], denied: [2], "odd": [3]}, key="outcome")
    assert series == {f"{denied} (denied)": [1], denied: [2], "odd": [3]}


def test_outsider_cannot_open_an_event_of_other_departments(client, world, reads):
    client.force_login(world.outsider_officer)
    assert client.get(f"{BASE}{reads[0].seq}/").status_code == 404


def test_charts_are_inline_svg(client, world, reads):
    client.force_login(world.platform_auditor)
    content = client.get(BASE + "stats/").content.decode()
    assert content.count('role="img"') == 5
    assert 'src="http' not in content and "cdn" not in content.lower()
    assert "GA-RK-001" in content
    assert ">Denied (denied)</text>" in content  # the denials chart's legend


def test_csv_export_streams_the_filtered_events(client, world, reads):
    client.force_login(world.platform_auditor)
    response = client.get(BASE + "export.csv", {"outcome": "denied"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("seq,time,kind")
    assert len(lines) == 2 and "no grant" in lines[1]


def test_verification_page_runs_the_check(client, world, reads):
    client.force_login(world.provider_auditor)
    response = client.post(BASE + "verify/")
    assert response.status_code == 200
    assert response.context["result"].ok


def test_officers_cannot_verify(client, world, reads):
    client.force_login(world.consumer_officer)
    assert client.post(BASE + "verify/").status_code == 403


def test_alerts_page_lists_alerts_of_the_auditors_departments(client, world, reads):
    now = clock.now()
    Alert.objects.create(
        kind=Alert.Kind.DENIAL_BURST,
        department=world.provider,
        summary="probing GA",
        window_start=now,
        window_end=now,
        dedupe_key="a",
        created_at=now,
    )
    Alert.objects.create(
        kind=Alert.Kind.DENIAL_BURST,
        department=world.outsider,
        summary="probing MZ",
        window_start=now,
        window_end=now,
        dedupe_key="b",
        created_at=now,
    )
    client.force_login(world.provider_auditor)
    content = client.get(BASE + "alerts/").content.decode()
    assert "probing GA" in content and "probing MZ" not in content


def test_admin_index_links_the_console_for_auditors(client, world, reads):
    client.force_login(world.provider_auditor)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert BASE in response.content.decode()
