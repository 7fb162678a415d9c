"""The sharing test world (tests/sharing/conftest.py), for the home page's to-do list."""

from tests.sharing.conftest import at_monday, sw  # noqa: F401 (fixtures)
