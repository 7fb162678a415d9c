"""Requests PostgreSQL could not serve are answered before any view runs (apps.common.dbfailure):
NUL characters in the path or the query string."""

from __future__ import annotations

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "不能包含"), ("en", "must not contain")],
)
def test_a_nul_is_refused_in_the_requests_language_whatever_the_thread_served_last(
    client, language, expected
):
    other = "en" if language == "zh-hans" else "zh-hans"
    with translation.override(other):  # the language a previous request left active
        response = client.get("/api/v1/departments/?q=%00", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert expected in response.json()["detail"]
