"""Settings read from the environment: a PostgreSQL memory size is checked when they load."""

from __future__ import annotations

import pytest

from config.env import env_pg_memory


@pytest.mark.parametrize("value", ["64MB", "65536", "1.5GB", "64 MB", " 512kB ", ""])
def test_a_postgresql_memory_size_is_taken_as_given(monkeypatch, value):
    monkeypatch.setenv("GOVDATA_TEST_MEMORY", value)
    assert env_pg_memory("GOVDATA_TEST_MEMORY", "64MB") == value.strip()


def test_the_default_applies_when_the_variable_is_absent(monkeypatch):
    monkeypatch.delenv("GOVDATA_TEST_MEMORY", raising=False)
    assert env_pg_memory("GOVDATA_TEST_MEMORY", "64MB") == "64MB"


@pytest.mark.parametrize("value", ["64mb", "64 megabytes", "-1MB", "MB", "64MB;"])
def test_anything_postgresql_would_refuse_stops_the_settings_with_the_variable_named(
    monkeypatch, value
):
    monkeypatch.setenv("GOVDATA_TEST_MEMORY", value)
    with pytest.raises(ValueError, match="GOVDATA_TEST_MEMORY must be a PostgreSQL memory size"):
        env_pg_memory("GOVDATA_TEST_MEMORY", "64MB")
