"""The Ed25519 key that signs checkpoints and archives. Generated on first use (mode 0600) at
settings.GOVDATA["AUDIT_SIGNING_KEY_FILE"]; only its public half ever leaves the server."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

_lock = threading.Lock()
_cache: dict[str, Ed25519PrivateKey] = {}


def _key_path() -> Path:
    return Path(settings.GOVDATA["AUDIT_SIGNING_KEY_FILE"])


def signing_key() -> Ed25519PrivateKey:
    path = _key_path()
    with _lock:
        key = _cache.get(str(path))
        if key is not None:
            return key
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            # O_EXCL: two processes generating at once must not overwrite each other's key.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 private key")
        _cache[str(path)] = key
        return key


def public_key_pem() -> bytes:
    return (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def key_id() -> str:
    raw = (
        signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )
    return hashlib.sha256(raw).hexdigest()[:16]


def sign_hex(message: bytes) -> str:
    """The platform's signature of `message`, hex-encoded, as checkpoints and export headers
    carry it."""
    return signing_key().sign(message).hex()
