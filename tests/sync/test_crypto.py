"""Source credentials are encrypted at rest and rotate with a list of keys."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from govdata.crypto import secrets_decrypt, secrets_encrypt


def test_credentials_round_trip_and_are_not_stored_in_clear():
    token = secrets_encrypt({"url": "mysql://root:pa55@db/x"})
    assert "pa55" not in token
    assert secrets_decrypt(token) == {"url": "mysql://root:pa55@db/x"}


def test_key_rotation_decrypts_with_an_older_key():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(GOVDATA={"CREDENTIALS_KEY": old}):
        token = secrets_encrypt({"token": "t"})
    with override_settings(GOVDATA={"CREDENTIALS_KEY": f"{new},{old}"}):
        assert secrets_decrypt(token) == {"token": "t"}
    with (
        override_settings(GOVDATA={"CREDENTIALS_KEY": new}),
        pytest.raises(ValueError, match="decrypt"),
    ):
        secrets_decrypt(token)
