from tests.live import flushable_db  # noqa: F401
