"""A failed admin sign-in is stored by django-axes with its POST data, which the failed sign-in
records page shows: the one-time code is masked there like the password, never kept in clear."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from apps.common.otp import otp_device_ensure
from apps.departments.services import department_create
from tests.factories import UserFactory, officer_of
from tests.security.conftest import admin_login

pytestmark = pytest.mark.django_db

CODE = "123456"


@pytest.fixture
def axes_on(settings):
    settings.AXES_ENABLED = True


@pytest.fixture
def officer(db):
    return officer_of(department_create(code="GA", name="省公安厅"))


def _stored_post_data() -> str:
    return AccessAttempt.objects.get().post_data


def test_a_failed_sign_in_stores_the_one_time_code_masked(axes_on, client, officer):
    assert (
        admin_login(client, officer.username, password="wrong", otp_token=CODE).status_code == 200
    )
    post_data = _stored_post_data()
    assert "otp_token=********************" in post_data
    assert CODE not in post_data


def test_a_wrong_one_time_code_is_stored_masked(axes_on, settings, client, officer):
    settings.GOVDATA = {**settings.GOVDATA, "REQUIRE_OTP": True}
    otp_device_ensure(officer)
    assert admin_login(client, officer.username, otp_token=CODE).status_code == 200
    assert "otp_token=********************" in _stored_post_data()
    assert CODE not in _stored_post_data()


def test_the_records_page_shows_no_one_time_code(axes_on, client, officer):
    admin_login(client, officer.username, password="wrong", otp_token=CODE)
    attempt = AccessAttempt.objects.get()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk]))
    assert page.status_code == 200
    assert "otp_token=" in page.content.decode() and CODE not in page.content.decode()


def test_the_defaults_of_axes_stay_masked(settings):
    assert {"username", "ip_address", "otp_token"} <= set(settings.AXES_SENSITIVE_PARAMETERS)
