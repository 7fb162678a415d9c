"""The failed sign-in records page (django-axes) cleans up what no longer counts towards a
lockout, through the platform admin's real admin, under the project's axes settings; its
deletions are audit events; the three axes pages name their columns and records in the
reader's language and time zone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from axes.models import AccessAttempt, AccessAttemptExpiration, AccessFailureLog, AccessLog
from django.contrib.messages import get_messages
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.common.admin_axes import CLEANUP_ACTION, DELETE_ACTION
from apps.common.clock import now
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:axes_accessattempt_changelist"


@pytest.fixture
def axes_as_deployed(settings):
    settings.AXES_ENABLED = True
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=30)
    settings.AXES_USE_ATTEMPT_EXPIRATION = False


@pytest.fixture
def signed_in(client, axes_as_deployed):
    """The platform admin's client, signed in before any record exists: axes itself deletes
    every expired record at each sign-in, which would leave the action nothing to do."""
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def _attempt(username: str, minutes_ago: int, failures: int = 5) -> AccessAttempt:
    attempt = AccessAttempt.objects.create(
        username=username, ip_address="192.0.2.10", user_agent="test", http_accept="*/*",
        path_info="/admin/login/", get_data="", post_data="", failures_since_start=failures,
    )  # fmt: skip
    # attempt_time is auto_now_add: the last failure's time is set afterwards.
    AccessAttempt.objects.filter(pk=attempt.pk).update(
        attempt_time=now() - dt.timedelta(minutes=minutes_ago)
    )
    return attempt


def _clean_up(client, attempts):
    return client.post(
        reverse(CHANGELIST),
        {"action": "cleanup_expired_attempts", "_selected_action": [a.pk for a in attempts]},
    )


def test_clean_up_deletes_selected_attempts_past_the_cool_off_and_keeps_live_lockouts(signed_in):
    stale = _attempt("officer-old", minutes_ago=31)
    live = _attempt("officer-locked", minutes_ago=29)

    response = _clean_up(signed_in, [stale, live])

    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["officer-locked"]
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Deleted 1 expired failed sign-in record.",
        "1 selected record still counts towards a lockout and was kept.",
    ]


def test_clean_up_leaves_unselected_expired_attempts_alone(signed_in):
    selected = _attempt("officer-a", minutes_ago=60)
    other = _attempt("officer-b", minutes_ago=60)

    assert _clean_up(signed_in, [selected]).status_code == 302

    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [other.pk]


def test_with_attempt_expiration_the_clean_up_follows_each_attempts_expiry(signed_in, settings):
    settings.AXES_USE_ATTEMPT_EXPIRATION = True
    expired, current = _attempt("officer-a", minutes_ago=5), _attempt("officer-b", minutes_ago=90)
    unselected = _attempt("officer-c", minutes_ago=5)
    for attempt, minutes in ((expired, -1), (current, 10), (unselected, -1)):
        AccessAttemptExpiration.objects.create(
            access_attempt=attempt, expires_at=now() + dt.timedelta(minutes=minutes)
        )

    response = _clean_up(signed_in, [expired, current])

    assert response.status_code == 302
    assert sorted(AccessAttempt.objects.values_list("pk", flat=True)) == [
        current.pk,
        unselected.pk,
    ]
    # The expiry row deleted with its record is not counted as a record.
    assert str(next(iter(get_messages(response.wsgi_request)))) == (
        "Deleted 1 expired failed sign-in record."
    )


def test_the_platform_admin_sees_the_failed_sign_in_records_with_the_action(signed_in):
    _attempt("officer-a", minutes_ago=5)
    page = signed_in.get(reverse(CHANGELIST)).content.decode()
    assert "officer-a" in page
    assert '<option value="cleanup_expired_attempts">Clean up expired attempts</option>' in page


# Audit events.


def test_the_clean_up_is_an_audit_event_naming_who_and_the_records_deleted(signed_in):
    stale = _attempt("officer-old", minutes_ago=31)
    live = _attempt("officer-locked", minutes_ago=29)

    signed_in.post(
        reverse(CHANGELIST),
        {"action": "cleanup_expired_attempts", "_selected_action": [stale.pk, live.pk]},
        REMOTE_ADDR="198.51.100.7",
    )

    [event] = _events(CLEANUP_ACTION)
    assert event.kind == "admin" and event.user_id == UserFactory(username="root").pk
    assert event.client_ip == "198.51.100.7"
    assert event.target == "axes.accessattempt"
    assert event.details["deleted"] == 1
    assert [(r["username"], r["ip_address"]) for r in event.details["records"]] == [
        ("officer-old", "192.0.2.10")
    ]


def test_a_clean_up_that_deletes_nothing_records_nothing(signed_in):
    assert _clean_up(signed_in, [_attempt("officer-locked", minutes_ago=5)]).status_code == 302
    assert AccessAttempt.objects.count() == 1
    assert _events(CLEANUP_ACTION) == []


def test_without_a_cool_off_lockouts_are_for_good_and_the_clean_up_keeps_every_record(
    signed_in, settings
):
    settings.AXES_COOLOFF_TIME = None
    old = _attempt("officer-old", minutes_ago=60 * 24 * 365)

    response = _clean_up(signed_in, [old])

    assert AccessAttempt.objects.filter(pk=old.pk).exists()
    assert _events(CLEANUP_ACTION) == []
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("still counts towards a lockout" in t for t in texts), texts


def test_a_clean_up_of_many_records_counts_them_all_and_lists_the_latest_hundred(signed_in):
    from apps.common.admin_axes import RECORDS_LISTED

    stale = [_attempt(f"spray-{n:03d}", minutes_ago=40 + n) for n in range(RECORDS_LISTED + 5)]

    _clean_up(signed_in, stale)

    assert not AccessAttempt.objects.exists()
    [event] = _events(CLEANUP_ACTION)
    assert event.details["deleted"] == RECORDS_LISTED + 5
    listed = [r["username"] for r in event.details["records"]]
    assert listed == [f"spray-{n:03d}" for n in range(RECORDS_LISTED)]  # newest first


def _log(model, username: str = "officer-a", **extra):
    return model.objects.create(
        username=username, ip_address="192.0.2.10", user_agent="test", http_accept="*/*",
        path_info="/admin/login/", **extra,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("model", "extra"),
    [
        (AccessAttempt, {"get_data": "", "post_data": "", "failures_since_start": 5}),
        (AccessLog, {}),
        (AccessFailureLog, {"locked_out": True}),
    ],
)
def test_deleting_a_sign_in_record_on_its_page_is_an_audit_event(signed_in, model, extra):
    # (Signing in, root got a sign-in log entry of its own: not this one.)
    record = _log(model, **extra)
    url = reverse(f"admin:axes_{model._meta.model_name}_delete", args=[record.pk])

    response = signed_in.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not model.objects.filter(pk=record.pk).exists()
    [message] = get_messages(response.wsgi_request)
    assert "officer-a from 192.0.2.10" in str(message)  # named by its title
    [event] = _events(DELETE_ACTION)
    assert event.target == model._meta.label_lower
    assert event.details["deleted"] == 1
    assert event.details["records"][0]["username"] == "officer-a"


def test_deleting_selected_sign_in_records_is_one_audit_event(signed_in):
    records = [_log(AccessLog, f"officer-{n}") for n in range(3)]
    response = signed_in.post(
        reverse("admin:axes_accesslog_changelist"),
        {"action": "delete_selected", "post": "yes", "_selected_action": [r.pk for r in records]},
    )
    assert response.status_code == 302
    assert not AccessLog.objects.filter(pk__in=[r.pk for r in records]).exists()
    [event] = _events(DELETE_ACTION)
    assert event.details["deleted"] == 3
    assert len(event.details["records"]) == 3


# Names of columns and records.

WHEN = dt.datetime(2025, 3, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Beijing


def _at(record, when: dt.datetime = WHEN):
    type(record).objects.filter(pk=record.pk).update(attempt_time=when)
    return record


def test_the_status_column_is_headed_in_the_readers_language(signed_in):
    _attempt("officer-a", minutes_ago=5)
    page = signed_in.get(reverse(CHANGELIST), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    header = re.search(r'<th scope="col" class="column-status">(.*?)</th>', page, re.S)
    assert "<span>状态</span>" in header.group(1)


@pytest.mark.parametrize(
    ("model", "extra", "title"),
    [
        (
            AccessAttempt,
            {"get_data": "", "post_data": "", "failures_since_start": 5},
            "officer-a from 192.0.2.10, last failure March 1, 2025, 9:30 a.m.",
        ),
        (AccessLog, {}, "Sign-in of officer-a from 192.0.2.10 at March 1, 2025, 9:30 a.m."),
        (
            AccessFailureLog,
            {"locked_out": True},
            "Failed sign-in of officer-a from 192.0.2.10 at March 1, 2025, 9:30 a.m., locked out",
        ),
    ],
)
def test_a_records_pages_name_it_by_who_where_and_local_time(signed_in, model, extra, title):
    record = _at(_log(model, **extra))
    name = model._meta.model_name

    change = signed_in.get(reverse(f"admin:axes_{name}_change", args=[record.pk]))
    history = signed_in.get(reverse(f"admin:axes_{name}_history", args=[record.pk]))
    delete = signed_in.get(reverse(f"admin:axes_{name}_delete", args=[record.pk]))

    page = change.content.decode()
    assert f"<title>{title} | " in page and f"<h2>{title}</h2>" in page
    assert f"\n&rsaquo; {title}\n</div>" in page  # the breadcrumbs
    assert f"<h1>Change history: {title}</h1>" in history.content.decode()
    page = delete.content.decode()
    assert f">{title}</a>\n&rsaquo; Delete" in page  # the breadcrumbs
    assert f'delete the {model._meta.verbose_name} "{title}"?' in page  # the question
    assert f'/change/">{title}</a></li>' in page  # the list of what is deleted
    for page in (change, history, delete):
        assert "+00:00" not in page.content.decode()


@pytest.mark.parametrize(
    ("model_admin_of", "action", "needed"),
    [
        ("axes.AccessAttempt", "cleanup_expired_attempts", "delete"),
        ("oauth2_provider.AccessToken", "revoke_tokens", "change"),
        ("oauth2_provider.RefreshToken", "revoke_tokens", "change"),
    ],
)
def test_a_staff_user_who_may_only_view_is_not_offered_the_deleting_actions(
    rf, model_admin_of, action, needed
):
    from django.apps import apps
    from django.contrib import admin
    from django.contrib.auth.models import Permission

    model = apps.get_model(model_admin_of)
    model_admin = admin.site._registry[model]
    user = UserFactory(is_staff=True)
    opts = model._meta
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label=opts.app_label, codename=f"view_{opts.model_name}"
        )
    )
    request = rf.get("/")
    request.user = user
    assert action not in model_admin.get_actions(request)
    user.user_permissions.add(
        Permission.objects.get(
            content_type__app_label=opts.app_label, codename=f"{needed}_{opts.model_name}"
        )
    )
    request.user = type(user).objects.get(pk=user.pk)  # permissions are cached per instance
    assert action in model_admin.get_actions(request)
