from tests.live import flushable_db, live_server_url, live_world  # noqa: F401
