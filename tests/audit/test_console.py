"""The auditors' console in the admin: search, detail, charts, CSV, verification, alerts."""

import csv
import io

import orjson
import pytest
from django.utils import translation

from apps.audit import labels, selectors
from apps.audit.chain import chain_append
from apps.audit.models import BODY_KEYS, Alert, AuditEvent
from apps.audit.services import ACCESS_ACTIONS, audit_record_admin
from apps.common import clock
from govdata.masking import MASKING_RULES
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
        ("Grants relied on", "grant_ids", "<td>1, 3</td>"),
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
    assert 'Denied <code class="quiet">denied</code>: <span title="no grant">no grant</span>' in (
        content
    )


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


# Department and dataset codes are matched whatever the case of what was typed.


@pytest.mark.parametrize("typed", ["WJ", "wj", " Wj "])
def test_search_finds_a_department_whatever_the_case_typed(client, world, reads, typed):
    client.force_login(world.platform_auditor)
    content = client.get(BASE, {"department": typed}).content.decode()
    assert f">{reads[0].seq}</a>" in content and f">{reads[1].seq}</a>" in content


def test_search_finds_a_dataset_whatever_the_case_typed(client, world, reads):
    client.force_login(world.provider_auditor)
    content = client.get(BASE, {"dataset": "ga-rk-001"}).content.decode()
    assert f">{reads[0].seq}</a>" in content and f">{reads[1].seq}</a>" in content


def test_department_filter_resolves_the_code_in_one_query_and_filters_on_the_id_columns(
    world, reads, django_assert_num_queries
):
    filters = selectors.EventFilters(department="gA")
    # The caller's scope, then the code on the unique index of department.code.
    with django_assert_num_queries(2):
        qs = selectors.events_search(user=world.platform_auditor, filters=filters)
    sql = str(qs.query)
    assert f'"consumer_id" = {world.provider.pk}' in sql
    assert f'"provider_id" = {world.provider.pk}' in sql
    assert "upper(" not in sql.lower() and "lower(" not in sql.lower()
    with django_assert_num_queries(1):
        assert {e.seq for e in qs} >= {r.seq for r in reads}


def test_an_unknown_code_is_refused_naming_the_filter_not_searched_as_no_event(world, reads):
    filters = selectors.EventFilters(department="nope", dataset="GA-RK-001", provider="gone")
    with pytest.raises(selectors.UnknownCode) as refused:
        selectors.events_search(user=world.platform_auditor, filters=filters)
    assert refused.value.message_dict == {
        "department": ["No department has the code “nope”."],
        "provider": ["No department has the code “gone”."],
    }


# The detail page shows structured values readably, and nothing recorded as "—".


def test_detail_lists_returned_fields_with_their_labels_and_masking(client, world, reads):
    client.force_login(world.platform_auditor)
    content = client.get(f"{BASE}{reads[0].seq}/").content.decode()
    assert (
        '<li>性别 <code class="quiet">gender</code> → In clear <code class="quiet">none</code></li>'
        in content
    )
    assert (
        '<li>姓名 <code class="quiet">name</code> → '
        'Name masked (first character kept) <code class="quiet">name</code></li>'
    ) in content
    assert "{&#x27;" not in content and "{'" not in content  # no Python dicts


def test_detail_shows_filters_as_a_small_table_with_field_labels(client, world, reads):
    event = record_read(
        world,
        filters={"district": "天河区", "birth_date__gte": "1990", "ordering": "-district"},
    )
    client.force_login(world.platform_auditor)
    content = client.get(f"{BASE}{event.seq}/").content.decode()
    assert (
        '<tr><th>所属区县 <code class="quiet">district</code></th><td>天河区</td></tr>' in content
    )
    assert (
        '<tr><th>出生日期 ≥ <code class="quiet">birth_date__gte</code></th><td>1990</td></tr>'
        in content
    )
    assert (
        '<tr><th>Ordering <code class="quiet">ordering</code></th><td>-district</td></tr>'
        in content
    )


def test_detail_shows_empty_values_as_a_dash(client, world, reads):
    event = record_read(
        world,
        user=None,
        row_count=None,
        duration_ms=None,
        filters={},
        grant_ids=[],
        outcome="denied",
        reason="no readable field",
        fields={},
    )
    client.force_login(world.platform_auditor)
    content = client.get(f"{BASE}{event.seq}/").content.decode()
    for key in ("user_id", "row_count", "application_id", "duration_ms", "filters", "fields"):
        row = content.split(f'<code class="quiet">{key}</code></th>', 1)[1]
        assert row.lstrip().startswith("<td>—</td>"), key
    assert "None" not in content


def test_detail_shows_an_administrative_events_details_as_a_labelled_table(client, world, reads):
    event = audit_record_admin(
        action="request.approve",
        actor=world.provider_officer,
        department=world.provider,
        target="request:7",
        details={
            "grant": 6,
            "consumer": "WJ",
            "dataset": world.dataset.code,
            "fields": ["id_number", "name"],
            "partial": True,
            "valid_until": "2027-05-25",
            "row_filter": {"district": "天河区"},
            "masks": {"name": "redact"},
            "changes": [{"name": "GA-RK-001", "change": "added"}],
        },
    )
    client.force_login(world.platform_auditor)
    content = client.get(f"{BASE}{event.seq}/").content.decode()
    assert '<tr><th>Grant <code class="quiet">grant</code></th><td>6</td></tr>' in content
    assert (
        '<td>公民身份号码 <code class="quiet">id_number</code>, '
        '姓名 <code class="quiet">name</code></td>'
    ) in content
    assert '<th>Partly approved <code class="quiet">partial</code></th><td>Yes</td>' in content
    assert '<th>所属区县 <code class="quiet">district</code></th><td>天河区</td>' in content
    assert '姓名 <code class="quiet">name</code> → Withheld <code class="quiet">redact</code>' in (
        content
    )
    assert (
        '<code class="audit-json">[{&quot;name&quot;:&quot;GA-RK-001&quot;,'
        "&quot;change&quot;:&quot;added&quot;}]</code>"
    ) in content
    assert "{&#x27;" not in content and "True" not in content


def test_detail_labels_fields_of_a_dataset_without_a_query_per_field(
    world, reads, django_assert_num_queries
):
    with django_assert_num_queries(1):
        got = selectors.event_field_labels(event=reads[0])
    assert got["gender"] == "性别" and len(got) == len(world.fields)
    admin_event = audit_record_admin(
        action="application.rotate_secret",
        actor=world.consumer_officer,
        department=world.consumer,
        target="application:x",
        details={},
    )
    with django_assert_num_queries(0):
        assert selectors.event_field_labels(event=admin_event) == {}


# Reasons the platform writes are shown in the reader's language; the record is unchanged.


def test_detail_translates_a_reason_code_and_keeps_the_recorded_one_beside_it(client, world, reads):
    event = record_read(world, outcome="denied", reason="no readable field", fields={})
    client.force_login(world.platform_auditor)
    content = client.get(f"{BASE}{event.seq}/").content.decode()
    assert (
        "<td>The consumer may read no field of this dataset. "
        '<code class="quiet">no readable field</code></td>'
    ) in content
    assert AuditEvent.objects.get(seq=event.seq).data["reason"] == "no readable field"


@pytest.mark.parametrize(
    ("recorded", "language", "shown"),
    [
        (
            "您无权对信息项“address”进行筛选。",
            "en",
            "You may not filter on the field “address”.",
        ),
        (
            "信息项“name”对您是脱敏的，不能进行排序。",
            "en",
            "The field “name” is masked for you; you may not order by it.",
        ),
        ("您无权读取信息项“religion”。", "en", "You may not read the field “religion”."),
        (
            "You may not look up by the field “id_number”.",
            "zh-hans",
            "您无权对信息项“id_number”进行主键查询。",
        ),
        (
            "Field mobile was removed: 不再采集",
            "zh-hans",
            "信息项 mobile 已移除：不再采集",
        ),
        ("The grant reached its end date.", "zh-hans", "授权已到期。"),
    ],
)
def test_reasons_the_platform_writes_are_recognised_in_every_language(recorded, language, shown):
    with translation.override(language):
        assert labels.reason_label(recorded) == shown


def test_people_s_own_reasons_are_shown_as_recorded():
    assert labels.reason_label("申请用途与所需信息项不匹配") is None
    assert labels.reason_label("no grant") is None
    assert labels.reason_label("") is None and labels.reason_label(None) is None


def test_search_shows_the_translated_reason_with_the_recorded_one_as_its_title(
    client, world, reads
):
    record_read(world, outcome="denied", reason="您无权读取信息项“religion”。", fields={})
    client.force_login(world.platform_auditor)
    content = client.get(BASE, {"outcome": "denied"}).content.decode()
    assert (
        '<span title="您无权读取信息项“religion”。">You may not read the field “religion”.</span>'
    ) in content


def test_labels_cover_every_masking_rule():
    assert set(labels.MASK_LABELS) == set(MASKING_RULES)


# The CSV export writes structured values as JSON, and nothing recorded as an empty cell.


def test_csv_export_writes_structured_values_as_json_keeping_chinese(client, world, reads):
    empty = record_read(
        world,
        request_id="c9",
        user=None,
        row_count=None,
        duration_ms=None,
        filters={},
        grant_ids=[],
    )
    client.force_login(world.platform_auditor)
    response = client.get(BASE + "export.csv", {"end_user": "王五"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 1
    row = rows[0]
    assert row["fields"] == '{"gender":"none","name":"name"}'
    assert row["filters"] == '{"district":"天河区"}'
    assert row["grant_ids"] == "[1,3]"
    assert row["details"] == ""  # {} recorded: nothing
    assert orjson.loads(row["filters"]) == reads[0].data["filters"]
    response = client.get(BASE + "export.csv", {"end_user": "张三"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    (row,) = [r for r in csv.DictReader(io.StringIO(body)) if r["seq"] == str(empty.seq)]
    assert row["row_count"] == row["duration_ms"] == row["filters"] == row["grant_ids"] == ""
    assert "None" not in body and "{'" not in body


def test_csv_export_writes_an_administrative_events_details_as_json(client, world, reads):
    audit_record_admin(
        action="grant.revoke",
        actor=world.provider_officer,
        department=world.provider,
        target="grant:5",
        details={"request": 9, "consumer": "WJ", "reason": "评审结束"},
    )
    client.force_login(world.platform_auditor)
    response = client.get(BASE + "export.csv", {"department": "ga"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    (row,) = [r for r in csv.DictReader(io.StringIO(body)) if r["action"] == "grant.revoke"]
    assert row["details"] == '{"request":9,"consumer":"WJ","reason":"评审结束"}'


def test_csv_cells_keep_zero_and_false_and_empty_only_what_is_empty():
    from apps.audit.console import csv_value

    assert [csv_value(v) for v in (None, "", {}, [], 0, 0.0, "x")] == ["", "", "", "", 0, 0.0, "x"]
    assert csv_value({"住址": "天河区", "ok": False}) == '{"住址":"天河区","ok":false}'
