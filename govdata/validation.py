"""Per-field normalisation and validation of incoming records, the hot path of every sync.

A `RowValidator` is compiled once per run from the dataset's fields: one small closure per field,
picked by data type, so the per-row loop does no dispatch and builds no dicts. Each closure takes
the raw source value (str from files, native types from SQL/JSON) and returns the value as text
ready for PostgreSQL COPY (CSV format), ``None`` for NULL, or raises `FieldError` with a reason.

Check digits follow GB 11643 (resident ID, ISO 7064 MOD 11-2) and GB 32100 (unified social
credit code) exactly as python-stdnum does; the loops here are ours because stdnum's per-call
overhead dominates a million-row run (tests cross-check both on generated numbers). An ID
number's region code is checked against every code that ever existed, not, as stdnum does,
against the codes of the birth year (see `_region_ok`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from govdata.messages import MessageMixin
from govdata.vocabulary import DataType

# Full-width ASCII variants (U+FF01..U+FF5E) and the ideographic space map to half-width.
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20
_STRIP = " \t\r\n\u3000\ufeff\xa0"

MIN_DATE = dt.date(1800, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)
BIGINT_MAX = 2**63 - 1


class FieldError(MessageMixin, ValueError):
    """A value that cannot be stored; the message is the reason shown in the quarantine. Also
    raised for a source whose columns cannot be mapped to the fields (govdata.rows)."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    data_type: str
    required: bool = False
    enum_values: tuple[str, ...] = ()
    label: str = ""  # the field's label (中文名): a source's column may be headed with it


def halfwidth(text: str) -> str:
    return text if text.isascii() else text.translate(_FULLWIDTH)


def _text(value: Any) -> str | None:
    """Trimmed, half-width text, or None for an empty value."""
    if value is None:
        return None
    if type(value) is not str:
        value = str(value)
    value = value.strip(_STRIP)
    if not value:
        return None
    return value if value.isascii() else value.translate(_FULLWIDTH).strip()


# --- check digits -------------------------------------------------------------------------------
_ID_DATE_CACHE: dict[str, bool] = {}
_REGION_CACHE: dict[str, bool] = {}


def _id_date_ok(yyyymmdd: str) -> bool:
    ok = _ID_DATE_CACHE.get(yyyymmdd)
    if ok is None:
        try:
            ok = (
                MIN_DATE
                <= dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
                <= (dt.date.today())
            )
        except ValueError:
            ok = False
        _ID_DATE_CACHE[yyyymmdd] = ok
    return ok


def _region_ok(number: str) -> bool:
    """Whether the number's first six digits are a region code that has ever existed (python-
    stdnum's table of counties, all years). Not the codes of the birth year, as stdnum checks:
    the code is where the number was issued (from 1984 on), not where its holder was born, so
    a person born in 1950 rightly holds 440106 (天河区, created in 1985). Takes a number or any
    prefix of one from six digits on (apps.sync.columns passes region and birth year)."""
    region = number[:6]
    ok = _REGION_CACHE.get(region)
    if ok is None:
        from stdnum import numdb  # looked up once per region, then cached

        ok = any("county" in props for _part, props in numdb.get("cn/loc").info(region))
        _REGION_CACHE[region] = ok
    return ok


def id_card_error(number: str) -> str | None:
    """Why `number` is not a valid 18-digit resident ID number, or None if it is."""
    if len(number) != 18:
        return _("must have 18 characters")
    body = number[:17]
    if not body.isdigit() or not body.isascii():
        return _("the first 17 characters must be digits")
    check = (1 - 2 * int(body, 13)) % 11  # ISO 7064 MOD 11-2, as in stdnum.cn.ric
    if number[17] != ("X" if check == 10 else chr(48 + check)):
        return _("wrong check digit")
    if not _id_date_ok(number[6:14]):
        return _("invalid birth date")
    if not _region_ok(number):
        return _("unknown region code")
    return None


_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(_USCC_ALPHABET)}
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_error(code: str) -> str | None:
    if len(code) != 18:
        return _("must have 18 characters")
    if not code[:8].isdigit():
        return _("the first 8 characters must be digits")
    values = _USCC_VALUE
    try:
        total = sum(values[c] * w for c, w in zip(code, _USCC_WEIGHTS, strict=False))
        last = values[code[17]]
    except KeyError:
        return _("contains a character not allowed in credit codes")
    if last != (31 - total) % 31:
        return _("wrong check digit")
    return None


# --- per-type validators ------------------------------------------------------------------------
_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
_INT_RE = re.compile(r"^[+-]?\d+$")
_WHOLE_DECIMAL_RE = re.compile(r"^[+-]?\d+\.0*$")
# A date in one of _DATE_RE's formats (or another the date field accepts), then a time.
_DATETIME_RE = re.compile(
    r"^(?P<date>.+?)(?:\s*T\s*|\s+|(?<=日))"
    r"(?:(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?"
    r"|(?P<ch>\d{1,2})\s*[时点]\s*(?P<cm>\d{1,2})\s*(?:分\s*(?:(?P<cs>\d{1,2})\s*秒)?)?)$"
)
_PLAIN_DECIMAL_RE = re.compile(r"-?[0-9]{1,30}(\.[0-9]{1,30})?\Z")
_TRUE = frozenset({"1", "true", "t", "yes", "y", "是", "真", "on"})
_FALSE = frozenset({"0", "false", "f", "no", "n", "否", "假", "off"})


def _date_from_text(text: str) -> dt.date | None:
    """The date `text` names in one of the formats a date field accepts; None when it is in
    none of them; FieldError when it is, but no such day exists (2020-02-30)."""
    try:
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            return dt.date.fromisoformat(text)
        m = _DATE_RE.match(text) or _COMPACT_DATE_RE.match(text)
        return dt.date(int(m[1]), int(m[2]), int(m[3])) if m else None
    except ValueError:
        raise FieldError(_("not a valid calendar date")) from None


def parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        day = _date_from_text(str(value))
        if day is None:
            raise FieldError(_("not a date (use 2020-01-05, 2020/1/5 or 2020年1月5日)"))
    if not MIN_DATE <= day <= MAX_DATE:
        raise FieldError(_("date out of range"))
    return day


def parse_datetime(text: str) -> dt.datetime:
    """A date and time: ISO 8601 (with or without an offset), or any date a date field
    accepts followed by a time, "10:00", "10:00:00" or "10时00分(00秒)" (Excel and WPS write
    2020/1/5 10:00:00 in a CSV export with a Chinese locale). A date alone is its midnight."""
    try:
        return dt.datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        pass
    m = _DATETIME_RE.match(text)
    day = _date_from_text(m["date"] if m else text)
    if day is None:
        raise FieldError(
            gettext_noop(
                "not a date and time (use 2020-01-05 10:00:00, 2020/1/5 10:00 or "
                "2020年1月5日 10时00分)"
            ),
            {},
        )
    if m is None:
        return dt.datetime.combine(day, dt.time())
    hour, minute = m["h"] or m["ch"], m["m"] or m["cm"]
    second, fraction = m["s"] or m["cs"] or "0", (m["f"] or "").ljust(6, "0")
    try:
        return dt.datetime.combine(day, dt.time(int(hour), int(minute), int(second), int(fraction)))
    except ValueError:
        raise FieldError(gettext_noop("not a valid time of day"), {}) from None


def _v_string(value: Any) -> str | None:
    if value is None:
        return None
    if type(value) is not str:
        value = str(value)
    value = value.strip(_STRIP)
    return value or None


def _v_integer(value: Any) -> str | None:
    if type(value) is str and len(value) < 19 and value.isdigit() and value.isascii():
        return value.lstrip("0") or "0"
    if type(value) is int:
        number = value
    elif type(value) is float or isinstance(value, Decimal):
        # A JSON API or a numeric database column may give 12.0 for 12, as Excel does
        # (govdata.connectors.xlsxfile): a whole number is taken, 1.5 is not.
        if not (value.is_integer() if type(value) is float else _whole(value)):
            raise FieldError(_("not an integer"))
        number = int(value)
    else:
        text = _text(value)
        if text is None:
            return None
        text = text.replace(",", "")
        if _INT_RE.match(text):
            number = int(text)
        elif _WHOLE_DECIMAL_RE.match(text):  # "12.0", as a float column is written out
            number = int(text.split(".")[0])
        else:
            raise FieldError(_("not an integer"))
    if abs(number) > BIGINT_MAX:
        raise FieldError(_("integer out of range"))
    return str(number)


def _whole(value: Decimal) -> bool:
    return value.is_finite() and value == value.to_integral_value()


def _v_decimal(value: Any) -> str | None:
    if type(value) is str and _PLAIN_DECIMAL_RE.match(value):
        return value
    text = _text(value)
    if text is None:
        return None
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise FieldError(_("not a decimal number")) from None
    if not number.is_finite():
        raise FieldError(_("not a decimal number"))
    return str(number)


def _v_boolean(value: Any) -> str | None:
    if type(value) is bool:
        return "t" if value else "f"
    text = _text(value)
    if text is None:
        return None
    lowered = text.lower()
    if lowered in _TRUE:
        return "t"
    if lowered in _FALSE:
        return "f"
    raise FieldError(_("not a yes/no value"))


def _v_date(value: Any) -> str | None:
    if value is None or isinstance(value, dt.date):
        return None if value is None else parse_date(value).isoformat()
    text = _text(value)
    return None if text is None else parse_date(text).isoformat()


def _v_datetime(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time())
    else:
        text = _text(value)
        if text is None:
            return None
        moment = parse_datetime(text)
    if not MIN_DATE <= moment.date() <= MAX_DATE:
        raise FieldError(_("date out of range"))
    if moment.tzinfo is None:
        from django.utils import timezone

        moment = timezone.make_aware(moment)
    return moment.isoformat()


_ID_CHECK = "".join("X" if c == 10 else str(c) for c in range(11))


def _v_id_card(value: Any) -> str | None:
    # Fast path for the common, clean 18-character value; anything unusual takes the slow path.
    if type(value) is str and len(value) == 18 and value.isascii():
        body = value[:17]
        if (
            body.isdigit()
            and value[17] == _ID_CHECK[(1 - 2 * int(body, 13)) % 11]
            and _ID_DATE_CACHE.get(value[6:14])
            and _REGION_CACHE.get(value[:6])
        ):
            return value
    text = _text(value)
    if text is None:
        return None
    if text[-1] == "x":
        text = text[:-1] + "X"
    error = id_card_error(text)
    if error:
        raise FieldError(error)
    return text


def _v_credit_code(value: Any) -> str | None:
    text = _text(value)
    if text is None:
        return None
    text = text.upper()
    error = credit_code_error(text)
    if error:
        raise FieldError(error)
    return text


def _v_mobile(value: Any) -> str | None:
    if (
        type(value) is str
        and len(value) == 11
        and value.isdigit()
        and value.isascii()
        and value[0] == "1"
        and value[1] in "3456789"
    ):
        return value
    text = _text(value)
    if text is None:
        return None
    text = text.replace(" ", "").replace("-", "")
    if text.startswith("+86"):
        text = text[3:]
    if not _MOBILE_RE.match(text):
        raise FieldError(_("not a mainland mobile number"))
    return text


def _enum_validator(allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    allowed_set = frozenset(allowed)
    params = {"values": ", ".join(allowed)}

    def check(value: Any) -> str | None:
        text = _v_string(value)
        if text is None or text in allowed_set:
            return text
        # A quarantine reason: stored rendered untranslated (apps.sync.engine.row_errors) and
        # found back by apps.sync.labels.rejection_reason, which knows this msgid.
        raise FieldError(gettext_noop("not one of the allowed values (%(values)s)"), params)

    return check


_BY_TYPE: dict[str, Callable[[Any], str | None]] = {
    DataType.STRING: _v_string,
    DataType.INTEGER: _v_integer,
    DataType.DECIMAL: _v_decimal,
    DataType.BOOLEAN: _v_boolean,
    DataType.DATE: _v_date,
    DataType.DATETIME: _v_datetime,
    DataType.ID_CARD: _v_id_card,
    DataType.CREDIT_CODE: _v_credit_code,
    DataType.MOBILE: _v_mobile,
}


def field_validator(spec: FieldSpec) -> Callable[[Any], str | None]:
    if spec.data_type == DataType.ENUM:
        return _enum_validator(spec.enum_values)
    return _BY_TYPE[spec.data_type]
