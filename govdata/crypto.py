"""Source credentials encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256).

The key comes from settings.GOVDATA["CREDENTIALS_KEY"] (env GOVDATA_CREDENTIALS_KEY, a urlsafe
base64 Fernet key; several keys separated by commas rotate: the first encrypts, all decrypt).
Without one, a key is derived from SECRET_KEY so development works; production sets its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    configured = settings.GOVDATA.get("CREDENTIALS_KEY", "")
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        digest = hashlib.sha256(f"govdata-credentials:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(k) for k in keys])


def secrets_encrypt(values: dict[str, Any]) -> str:
    if not values:
        return ""
    return _fernet().encrypt(json.dumps(values).encode()).decode()


def secrets_decrypt(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError(
            "the stored credentials cannot be decrypted with the configured key"
        ) from None
