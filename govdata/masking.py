"""Masking rules applied on output. An unknown rule fails closed: the field is not returned."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable
from typing import Any

# The address rule keeps the administrative head of an address (province, city, district) and
# never the street part. 区/县/旗 also end words that are not districts (小区, 园区, 社区, 校区),
# so a prefix up to one of them counts as a district only when a city comes before it and it
# holds nothing of a street address: no digit (house or building numbers, ASCII or full-width),
# no Latin letter (a foreign address has no such head at all) and none of the characters that
# name streets, lanes, numbers, buildings and rooms. apps.records.sql_masking._address applies
# the same rule in SQL (with this character class) and must give the same value for every input.
# The district's own name (between the first city marker and the district's 区/县/旗) names no
# town, estate, park, campus or zone: an address without a district (towns of 东莞 or 中山,
# 松山湖高新技术产业开发区) would otherwise keep its estate, as 小区 ends in 区. (A length limit
# on the name was measured too: PostgreSQL's bounded repetition cost 0.3 s more per million
# addresses, against 0.04 s for this character class.)
DISTRICT_ENDS = "区县旗"
CITY_ENDS = "市州盟"
ADDRESS_STREET_CHARS = "0-9０-９A-Za-z路街巷号弄栋楼室"  # a regex character class's body
ADDRESS_TOWN_CHARS = "镇乡村园苑小校景社业坊庄"  # not in a district's name
_S, _D, _C, _T = ADDRESS_STREET_CHARS, DISTRICT_ENDS, CITY_ENDS, ADDRESS_TOWN_CHARS
ADDRESS_DISTRICT_HEAD = f"^[^{_S}{_D}{_C}]*[{_C}][^{_S}{_D}{_T}]+[{_D}]"
ADDRESS_CITY_HEAD = f"^[^{_S}{_C}]*(?:州市|[{_C}])"
_DISTRICT_HEAD = re.compile(ADDRESS_DISTRICT_HEAD)
_CITY_HEAD = re.compile(ADDRESS_CITY_HEAD)


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
    if len(text) <= 1:
        # Keeping the first character of a one-character name would keep all of it.
        return "*" * len(text)
    return text[:1] + "*" * (len(text) - 1)


def mask_address(value: Any) -> str | None:
    """The address up to its district, else up to its city, then ****; nothing of it when
    neither is a clean administrative head (see DISTRICT_ENDS above)."""
    if value is None:
        return None
    text = str(value)
    if not text:
        return text  # nothing to hide; "****" would show a value that is not there
    # 州 ends an autonomous prefecture but is also inside city names (广州市, 杭州市): the city
    # then ends at the 市 right after it (州市 in the city pattern).
    head = _DISTRICT_HEAD.match(text) or _CITY_HEAD.match(text)
    return (head.group(0) if head else "") + "****"


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
