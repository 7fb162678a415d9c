"""Masking rules applied on output. An unknown rule fails closed: the field is not returned."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any

_ADDRESS_DISTRICT = re.compile(r"^(.*?(?:区|县|旗|市辖区|县级市))")
_ADDRESS_CITY = re.compile(r"^(.*?(?:市|州|盟))")


class UnknownMaskingRule(ValueError):
    pass


def _keep(value: str, head: int, tail: int) -> str:
    if len(value) <= head + tail:
        return "*" * len(value)
    return value[:head] + "*" * (len(value) - head - tail) + value[len(value) - tail :]


def mask_id_card(value: Any) -> str | None:
    return None if value is None else _keep(str(value), 6, 4)


def mask_mobile(value: Any) -> str | None:
    return None if value is None else _keep(str(value), 3, 4)


def mask_name(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text[:1] + "*" * max(len(text) - 1, 1) if text else text


def mask_address(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value)
    match = _ADDRESS_DISTRICT.match(text) or _ADDRESS_CITY.match(text)
    kept = match.group(1) if match else text[:3]
    return kept + "****"


def mask_bank_card(value: Any) -> str | None:
    return None if value is None else _keep(str(value), 4, 4)


def mask_year_only(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, dt.date | dt.datetime):
        return value.year
    text = str(value)
    return int(text[:4]) if text[:4].isdigit() else None


def mask_redact(value: Any) -> None:
    return None


def mask_hash(value: Any, *, key: bytes) -> str | None:
    """Keyed HMAC-SHA256; `key` differs per consuming department, so that two departments
    cannot join their hashed columns."""
    if value is None:
        return None
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()


def hash_key_for(secret: str, consumer_code: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), consumer_code.encode("utf-8"), hashlib.sha256).digest()


MASKING_RULES: dict[str, Callable[..., Any] | None] = {
    "none": None,
    "id_card": mask_id_card,
    "mobile": mask_mobile,
    "name": mask_name,
    "address": mask_address,
    "bank_card": mask_bank_card,
    "hash": mask_hash,
    "year_only": mask_year_only,
    "redact": mask_redact,
}

# Higher hides more; when two rules apply to one field, the higher one wins.
MASK_STRICTNESS = {
    "none": 0,
    "year_only": 1,
    "address": 1,
    "name": 2,
    "mobile": 2,
    "id_card": 2,
    "bank_card": 2,
    "hash": 3,
    "redact": 4,
}


def is_known_rule(rule: str) -> bool:
    return rule in MASKING_RULES


def stricter_mask(a: str, b: str) -> str:
    """The more restrictive of two rules; unknown rules count as the most restrictive."""
    rank_a = MASK_STRICTNESS.get(a, 99)
    rank_b = MASK_STRICTNESS.get(b, 99)
    return a if rank_a >= rank_b else b


def make_masker(rule: str, *, hash_key: bytes | None = None) -> Callable[[Any], Any]:
    """A function applying `rule` to one value. Raises UnknownMaskingRule for unknown rules."""
    if rule not in MASKING_RULES:
        raise UnknownMaskingRule(rule)
    func = MASKING_RULES[rule]
    if func is None:
        return lambda value: value
    if rule == "hash":
        if hash_key is None:
            raise ValueError("the hash rule needs a per-consumer key")
        return lambda value: mask_hash(value, key=hash_key)
    return func
