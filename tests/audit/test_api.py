"""The audit endpoints: who sees which events, filters, keyset pagination, verification,
checkpoints and the published key."""

import datetime as dt

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.db.models import Max
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from apps.api.services import application_create
from apps.audit.models import AuditEvent
from apps.audit.services import audit_record_admin, checkpoint_create
from apps.common import clock
from tests.audit.conftest import record_read
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
BASE = "/api/v1/audit/"


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def events(world):
    """Reads of GA data by WJ (allowed and denied), and one read of MZ's own dataset by MZ."""
    from tests.conftest import build_population_dataset

    mz_dataset, _fields = build_population_dataset(world.outsider, code="MZ-DB-001")
    # The world's own set-up (memberships, publications) is audited too: look past it.
    BASELINE["seq"] = AuditEvent.objects.aggregate(m=Max("seq"))["m"] or 0
    return {
        "wj_allowed": record_read(world, request_id="a"),
        "wj_denied": record_read(world, request_id="b", outcome="denied", reason="no grant"),
        "mz_own": record_read(
            world,
            request_id="c",
            consumer=world.outsider,
            provider=world.outsider,
            dataset=mz_dataset,
            user=world.outsider_officer,
        ),
        "admin": audit_record_admin(
            action="catalog.publish",
            actor=world.provider_officer,
            department=world.provider,
            target="GA-RK-001",
            details={"version": 2},
        ),
    }


BASELINE = {"seq": 0}


def seqs(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["seq"] for row in response.json()["results"] if row["seq"] > BASELINE["seq"]}


def test_platform_auditor_sees_every_event(world, events):
    assert seqs(client_for(world.platform_auditor).get(BASE + "events/")) == {
        e.seq for e in events.values()
    }


def test_provider_auditor_sees_events_of_its_department_only(world, events):
    got = seqs(client_for(world.provider_auditor).get(BASE + "events/"))
    assert got == {events["wj_allowed"].seq, events["wj_denied"].seq, events["admin"].seq}


def test_consumer_officer_sees_its_own_usage_only(world, events):
    got = seqs(client_for(world.consumer_officer).get(BASE + "events/"))
    assert got == {events["wj_allowed"].seq, events["wj_denied"].seq}


def test_outsider_officer_sees_none_of_the_others_usage(world, events):
    assert seqs(client_for(world.outsider_officer).get(BASE + "events/")) == {events["mz_own"].seq}


def test_user_without_department_is_refused_with_a_problem(world, events):
    response = client_for(UserFactory()).get(BASE + "events/")
    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_anonymous_is_unauthorised(events):
    assert client_for().get(BASE + "events/").status_code in (401, 403)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("outcome=denied", {"wj_denied"}),
        ("dataset=GA-RK-001", {"wj_allowed", "wj_denied"}),
        ("dataset=ga-rk-001", {"wj_allowed", "wj_denied"}),
        ("consumer=MZ", {"mz_own"}),
        ("consumer=mz", {"mz_own"}),
        ("provider=Ga&kind=admin", {"admin"}),
        ("provider=GA&kind=admin", {"admin"}),
        ("since=2000-01-01&until=2000-01-02", set()),
    ],
)
def test_filters(world, events, query, expected):
    got = seqs(client_for(world.platform_auditor).get(f"{BASE}events/?{query}"))
    assert got == {events[name].seq for name in expected}


def test_keyset_pagination_walks_every_event_once(world, events, django_assert_max_num_queries):
    client, seen, url = client_for(world.platform_auditor), [], BASE + "events/?page_size=1"
    while url:
        with django_assert_max_num_queries(4):
            body = client.get(url).json()
        seen += [row["seq"] for row in body["results"] if row["seq"] > BASELINE["seq"]]
        url = body["next"]
    assert seen == sorted((e.seq for e in events.values()), reverse=True)


def test_bad_cursor_and_dates_are_400(world, events):
    client = client_for(world.platform_auditor)
    assert client.get(BASE + "events/?cursor=nonsense").status_code == 400
    response = client.get(BASE + "events/?since=yesterday")
    assert response.status_code == 400
    assert "since" in str(response.json())


@pytest.mark.parametrize(
    ("param", "value"),
    [("since", "2026-02-30"), ("until", "2026-13-01"), ("since", "2026-01-05T25:00:00")],
)
def test_dates_that_do_not_exist_are_400_naming_the_parameter(world, events, param, value):
    response = client_for(world.platform_auditor).get(BASE + f"events/?{param}={value}")
    assert response.status_code == 400
    assert f"{value} is not a real date or time." in str(response.json()["errors"][param])


def test_verify_reports_an_intact_log(world, events):
    checkpoint_create()
    response = client_for(world.provider_auditor).get(BASE + "verify/")
    total = AuditEvent.objects.count()
    assert response.json() == {"ok": True, "events_checked": total, "first_bad_event": None}


def test_verify_and_checkpoints_are_for_auditors_only(world, events):
    for path in ("verify/", "checkpoints/"):
        assert client_for(world.consumer_officer).get(BASE + path).status_code == 403


def test_checkpoints_are_listed_and_the_public_key_is_published(world, events):
    checkpoint = checkpoint_create()
    body = client_for(world.platform_auditor).get(BASE + "checkpoints/").json()
    assert body["results"][0]["seq"] == checkpoint.seq == events["admin"].seq
    assert body["public_key"].endswith("/api/v1/audit/public-key/")
    response = client_for().get(BASE + "public-key/")
    assert response.status_code == 200
    key = load_pem_public_key(response.content)
    from govdata.auditchain import checkpoint_signature_ok

    assert checkpoint_signature_ok(key, body["results"][0])


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def unregistered_token(world):
    """A token of an OAuth client that is no agency application (as django-oauth-toolkit's own
    registration pages used to make), issued to the platform auditor as an authorisation-code
    client's token would be."""
    client = Application.objects.create(
        name="probe",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://probe.example/cb",
        user=world.consumer_officer,
    )
    return AccessToken.objects.create(
        application=client,
        user=world.platform_auditor,
        token="tok-unregistered-probe",
        expires=clock.now() + dt.timedelta(hours=1),
        scope="read requests",
    )


@pytest.mark.parametrize("path", ["events/", "verify/", "checkpoints/"])
def test_a_token_of_an_unregistered_oauth_client_is_401(events, unregistered_token, path):
    response = _bearer(unregistered_token.token).get(BASE + path)
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_agency_applications_token_is_no_auditor(world, events):
    agency, _secret = application_create(department=world.provider, name="app-GA")
    token = AccessToken.objects.create(
        application=agency.application,
        token="tok-agency-ga",
        expires=clock.now() + dt.timedelta(hours=1),
        scope="read requests",
    )
    assert _bearer(token.token).get(BASE + "events/").status_code == 403


def test_auditors_browser_session_still_reads_the_log(world, events):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.platform_auditor)
    assert seqs(client.get(BASE + "events/")) == {e.seq for e in events.values()}
    assert client.get(BASE + "verify/").status_code == 200
