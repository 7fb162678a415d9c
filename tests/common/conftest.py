"""The sharing test world (tests/sharing/conftest.py), for the home page's to-do list, and a
live server (tests/live.py) for the middleware behind gunicorn."""

from tests.live import flushable_db, live_server_url  # noqa: F401 (fixtures)
from tests.sharing.conftest import at_monday, sw  # noqa: F401 (fixtures)
