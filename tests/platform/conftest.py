"""Fixtures of the platform tests: a live server (tests/live.py) for those that need one."""

from tests.live import flushable_db, live_server_url  # noqa: F401
