"""Human labels for what the auditors' console shows of an event: the body's keys, the
enumerated values of `kind`, `action` and `outcome`, the masking rules, the keys of `filters`
and `details`, and the reasons the platform records. Defined here once; the console shows each
label next to the recorded key or value, never instead of it (auditors match them with the
NDJSON and CSV exports). Keys and values without a label here are shown as recorded."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from apps.audit.models import AuditEvent
from apps.catalog.models import Demand
from apps.departments.models import Membership
from apps.objections.models import Objection

# Every key of apps.audit.models.BODY_KEYS, in the order the detail page lists them.
KEY_LABELS: dict[str, Any] = {
    "kind": _("Kind"),
    "action": _("Action"),
    "outcome": _("Outcome"),
    "reason": _("Reason"),
    "request_id": _("Request ID"),
    "user_id": _("User ID"),
    "username": _("User name"),
    "application_id": _("Application ID"),
    "application_name": _("Application"),
    "consumer_id": _("Consumer department ID"),
    "consumer_code": _("Consumer department code"),
    "provider_id": _("Provider department ID"),
    "provider_code": _("Provider department code"),
    "dataset_id": _("Dataset ID"),
    "dataset_code": _("Dataset code"),
    "fields": _("Fields (masking)"),
    "row_count": _("Rows returned"),
    "filters": _("Filters"),
    "purpose": _("Purpose"),
    "case_id": _("Case ID"),
    "end_user": _("End user"),
    "grant_ids": _("Grants relied on"),
    "client_ip": _("Client IP address"),
    "duration_ms": _("Duration (ms)"),
    "target": _("Target"),
    "details": _("Details"),
}

# apps.audit.services.ACCESS_ACTIONS, then the administrative decisions recorded by the apps.
ACTION_LABELS: dict[str, Any] = {
    "list": _("Record list"),
    "lookup": _("Single-record lookup"),
    "export": _("Bulk export"),
    "export.end": _("Bulk export ended"),
    "catalog.publish": _("Catalogue published"),
    "application.create": _("Agency application created"),
    "application.rotate_secret": _("Application secret rotated"),
    "application.disable": _("Agency application disabled"),
    "application.enable": _("Agency application enabled"),
    "audit.export": _("Audit log exported"),
    "membership.add": _("Role granted"),
    "membership.remove": _("Role removed"),
    "department.code_change": _("Department code changed"),
    "request.submit": _("Request submitted"),
    "objection.submit": _("Objection submitted"),
    "objection.answer": _("Objection answered"),
    "objection.withdraw": _("Objection withdrawn"),
    "objection.escalate": _("Overdue objection escalated"),
    "request.approve": _("Request approved"),
    "request.reject": _("Request rejected"),
    "request.withdraw": _("Request withdrawn"),
    "request.escalate": _("Overdue request escalated"),
    "grant.narrow": _("Grant narrowed"),
    "grant.revoke": _("Grant revoked"),
    "grant.expire": _("Grant expired"),
    "sync.request": _("Sync run requested"),
    "sync.publish": _("Sync run published"),
    "sync.fail": _("Sync run failed"),
    "sync.cancel": _("Sync run cancelled"),
    "demand.submit": _("Demand filed"),
    "demand.answer": _("Demand answered"),
    "demand.close": _("Demand answered and closed"),
    "sync.uploads_delete": _("Uploaded sync files deleted"),
    "signin_records.cleanup": _("Expired failed sign-in records cleaned up"),
    "signin_records.delete": _("Sign-in records deleted"),
    "otp_device.qrcode_view": _("Authenticator app's QR code (secret key) viewed"),
}

# The models' choices are reused as they are.
VALUE_LABELS: dict[str, Mapping[str, Any]] = {
    "kind": dict(AuditEvent.Kind.choices),
    "outcome": dict(AuditEvent.Outcome.choices),
    "action": ACTION_LABELS,
}

# govdata.masking.MASKING_RULES, as recorded in `fields` (field name -> rule).
MASK_LABELS: dict[str, Any] = {
    "none": _("In clear"),
    "id_card": _("ID number masked (first 6 and last 4 kept)"),
    "mobile": _("Mobile number masked (first 3 and last 4 kept)"),
    "name": _("Name masked (first character kept)"),
    "address": _("Address masked (down to the district)"),
    "bank_card": _("Bank card masked (first 4 and last 4 kept)"),
    "hash": _("Keyed hash"),
    "year_only": _("Year only"),
    "redact": _("Withheld"),
}

# Keys of `filters` that are not field lookups (apps.records.query.RESERVED_PARAMS), and the
# lookups a field name may carry (`<field>__<lookup>`).
FILTER_LABELS: dict[str, Any] = {
    "fields": _("Fields asked for"),
    "ordering": _("Ordering"),
    "format": _("Export format"),
}
LOOKUP_LABELS: dict[str, Any] = {
    "in": _("one of"),
    "gte": "≥",
    "lte": "≤",
    "contains": _("contains"),
}

# Keys of `details` in the administrative events (apps.sharing, apps.catalog, apps.api,
# apps.departments).
DETAIL_LABELS: dict[str, Any] = {
    "title": _("Title"),
    "previous_status": _("Previous status"),
    "request": _("Data request"),
    "grant": _("Grant"),
    "consumer": _("Consumer"),
    "dataset": _("Dataset"),
    "field": _("Field"),
    "fields": _("Fields"),
    "partial": _("Partly approved"),
    "valid_until": _("Valid until"),
    "row_filter": _("Row filter"),
    "application": _("Application"),
    "record_key": _("Record key"),
    "description": _("What is wrong"),
    "proposed_value_given": _("Value believed correct given"),
    "outcome": _("Outcome"),
    "answer": _("Answer"),
    "overdue": _("Overdue"),
    "purpose": _("Purpose"),
    "legal_basis": _("Legal basis"),
    "masks": _("Stricter masking"),
    "due_by": _("Due by"),
    "reason": _("Reason"),
    "name": _("Name"),
    "scopes": _("Scopes"),
    "username": _("User name"),
    "role": _("Role"),
    "department": _("Department"),
    "version": _("Version"),
    "changes": _("Changes"),
    "grants_affected": _("Grants affected"),
    "mode": _("Sync mode"),
    "source_kind": _("Source kind"),
    "trigger": _("Trigger"),
    "file_name": _("File name"),
    "file_sha256": _("File SHA-256"),
    "rows_read": _("Rows read"),
    "rows_inserted": _("Rows inserted"),
    "rows_updated": _("Rows updated"),
    "rows_removed": _("Rows removed"),
    "rows_rejected": _("Rows rejected"),
    "attempts": _("Attempts"),
    "error": _("Error"),
    "watermark_column": _("Watermark column"),
    "watermark_before": _("Watermark before"),
    "watermark_after": _("Watermark after"),
}
DETAIL_VALUE_LABELS: dict[str, Mapping[str, Any]] = {
    "role": dict(Membership.Role.choices),
    "outcome": dict(Objection.Outcome.choices),
    "previous_status": dict(Demand.Status.choices),
}

# The reasons the platform records, by their source text. apps/api/views/records.py records
# "no readable field" as is (a stable code); the others are recorded translated into the
# language of the request or task that recorded them (apps/records/query.py,
# apps/sharing/grant_services.py), so they are recognised in every language of
# settings.LANGUAGES and shown in the reader's. Placeholders listed with choices take one of
# those texts (translated like the rest); the others are recorded names or free text.
REASON_CODES: dict[str, Any] = {
    "no readable field": _("The consumer may read no field of this dataset."),
    "export complete": _("The export ran to its end."),
    "export aborted: client gone": _("The export stopped before its end: the client went away."),
}
_WHAT = (gettext_noop("filter on"), gettext_noop("order by"), gettext_noop("look up by"))
# The sharing types as a field change's reason names them (their labels, apps.catalog.models).
_SHARING_TYPES = (
    gettext_noop("Unconditional (无条件共享)"),
    gettext_noop("Conditional (有条件共享)"),
    gettext_noop("Not shared (不予共享)"),
)
REASON_TEXTS: dict[str, Mapping[str, tuple[str, ...]]] = {
    # 403s (apps/records/query.py) and a grant's end (apps/sharing/grant_services.py).
    gettext_noop("You may not read the field “%(field)s”."): {},
    gettext_noop("You may not %(what)s the field “%(field)s”."): {"what": _WHAT},
    gettext_noop("The field “%(field)s” is masked for you; you may not %(what)s it."): {
        "what": _WHAT
    },
    gettext_noop("The grant reached its end date."): {},
    gettext_noop("Field %(name)s was removed: %(reason)s"): {},
    gettext_noop("Field %(name)s is no longer shared (%(old)s → none): %(reason)s"): {},
    gettext_noop("Field %(name)s is no longer shared (%(old)s → %(new)s): %(reason)s"): {
        "old": _SHARING_TYPES,
        "new": _SHARING_TYPES,
    },
    gettext_noop(
        "Its row filter names a field no longer shared in clear (%(fields)s): %(reason)s"
    ): {},
    # 400s, recorded as refused reads (apps/api/views/base.py and records.py,
    # apps/records/query.py and query_values.py). `expected` is itself a sentence with its own
    # numbers: taken as recorded.
    gettext_noop("The X-Purpose header is required on every record read."): {},
    gettext_noop("The %(header)s header is not UTF-8: send its text encoded as UTF-8."): {},
    gettext_noop("“%(param)s” is given more than once; give it once, comma-separated."): {},
    gettext_noop(
        "“%(param)s” is given more than once; give it once (several values of a field: "
        "<field>__in=a,b)."
    ): {},
    gettext_noop("“format” is for exports only: /export/?format=csv or ?format=ndjson."): {},
    gettext_noop("page_size must be a whole number."): {},
    gettext_noop("page_size must be between 1 and %(max)d."): {},
    gettext_noop("format must be csv or ndjson."): {},
    gettext_noop("An export has every matching record: %(params)s is for pages only."): {},
    gettext_noop("“page_size” must be a whole number from 1 to %(max)d."): {},
    gettext_noop("Unknown field “%(field)s”."): {},
    gettext_noop("“fields” names no field."): {},
    gettext_noop("“ordering” takes field names, each with at most one leading “-”."): {},
    gettext_noop("“ordering” names the field “%(field)s” more than once."): {},
    gettext_noop(
        "The cursor is not valid: use the “next” link of the previous page of this query."
    ): {},
    gettext_noop("The value of “%(field)s” is not valid: give %(expected)s."): {},
    gettext_noop(
        "The value of “%(param)s” is not valid for the field “%(field)s”: give %(expected)s."
    ): {},
    gettext_noop("“%(field)s__in” takes 1 to %(max)d values."): {},
    gettext_noop("“%(field)s” is not text; use another lookup."): {},
}
_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")


class _ReasonPattern(NamedTuple):
    regex: re.Pattern[str]
    msgid: str
    choices: Mapping[str, Mapping[str, str]]  # placeholder -> {translated choice: msgid}
    numbers: frozenset[str]  # placeholders formatted with %d


def _reason_pattern(msgid: str, choices: Mapping[str, tuple[str, ...]]) -> _ReasonPattern:
    """The regular expression of `msgid` in the active language."""
    text = gettext(msgid)
    translated = {name: {gettext(c): c for c in options} for name, options in choices.items()}
    parts, seen, numbers, last = [], set(), set(), 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append(re.escape(text[last : match.start()]))
        name = match[1]
        if name in seen:
            parts.append(f"(?P={name})")
        elif name in translated:
            options = sorted(translated[name], key=len, reverse=True)
            parts.append(f"(?P<{name}>{'|'.join(map(re.escape, options))})")
        elif match[2] == "d":
            parts.append(f"(?P<{name}>-?[0-9]+)")
            numbers.add(name)
        else:
            parts.append(f"(?P<{name}>.+?)")
        seen.add(name)
        last = match.end()
    parts.append(re.escape(text[last:]))
    regex = re.compile("".join(parts), re.DOTALL)
    return _ReasonPattern(regex, msgid, translated, frozenset(numbers))


@functools.cache
def _reason_patterns() -> tuple[_ReasonPattern, ...]:
    patterns = []
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            patterns += [_reason_pattern(m, c) for m, c in REASON_TEXTS.items()]
    with translation.override(None):  # the source texts, whatever the languages
        patterns += [_reason_pattern(m, c) for m, c in REASON_TEXTS.items()]
    return tuple(patterns)


def reason_label(reason: Any) -> str | None:
    """A recorded reason in the reader's language, or None for a reason the platform does not
    write itself (a rejection's or revocation's own words, shown as recorded). The recorded
    text is never changed: the audit body is hashed."""
    if not isinstance(reason, str) or not reason:
        return None
    if reason in REASON_CODES:
        return str(REASON_CODES[reason])
    for pattern in _reason_patterns():
        match = pattern.regex.fullmatch(reason)
        if match is None:
            continue
        values: dict[str, Any] = match.groupdict()
        for name, options in pattern.choices.items():
            values[name] = gettext(options[values[name]])
        for name in pattern.numbers:
            values[name] = int(values[name])
        return gettext(pattern.msgid) % values
    return None


def reason_for_record(reason: str) -> str:
    """A reason about to be recorded, in the platform's language (settings.LANGUAGE_CODE)
    whatever the language of the request that caused it, so that the same refusal is the same
    text for every agency (grouped, sorted and searched alike); the console still shows it in
    each reader's language. Reasons not known here, and the stable codes, are kept as given."""
    if not reason or reason in REASON_CODES:
        return reason
    with translation.override(settings.LANGUAGE_CODE):
        return reason_label(reason) or reason


def mask_label(rule: Any) -> Any | None:
    """The human label of a recorded masking rule, or None for a rule not known here."""
    return MASK_LABELS.get(rule) if isinstance(rule, str) else None


def filter_key_label(key: str, field_labels: Mapping[str, str]) -> str | None:
    """`Label` or `Label ≥` for a key of `filters` (a field lookup, `ordering`, ...), or None
    when neither the key nor its field has a label."""
    if key in FILTER_LABELS:
        return str(FILTER_LABELS[key])
    name, sep, lookup = key.rpartition("__")
    if not (sep and lookup in LOOKUP_LABELS):
        name, lookup = key, ""
    label = field_labels.get(name)
    if label is None:
        return None
    return f"{label} {LOOKUP_LABELS[lookup]}" if lookup else label


def is_empty(value: Any) -> bool:
    """Nothing recorded: shown as "—" by the console and as an empty cell by the CSV export."""
    return value is None or value == "" or (isinstance(value, dict | list) and not value)


class BodyItem(NamedTuple):
    key: str
    label: Any | None  # None for a key without a label (shown as recorded)
    value: Any  # exactly as recorded


def key_label(key: str) -> Any:
    """The human label of a body key; the key itself for keys not known here."""
    return KEY_LABELS.get(key, key)


def value_label(key: str, value: Any) -> Any | None:
    """The human label of a recorded enumerated value (`kind`, `action`, `outcome`), or None
    when the value has none (other keys, empty or unknown values)."""
    labels = VALUE_LABELS.get(key)
    if labels is None or not isinstance(value, str):
        return None
    return labels.get(value)


def body_items(data: Mapping[str, Any]) -> list[BodyItem]:
    """Every key of an event body with its label and recorded value: the known keys in the
    order of KEY_LABELS, then any other key (a field added later), sorted."""
    known = [k for k in KEY_LABELS if k in data]
    others = sorted(k for k in data if k not in KEY_LABELS)
    return [BodyItem(k, KEY_LABELS.get(k), data[k]) for k in known + others]


def labelled_series(series: Mapping[str, Any], *, key: str) -> dict[str, Any]:
    """A chart's series keyed by recorded values of `key`, named "label (recorded value)":
    the recorded value stays in the legend (as everywhere in the console), and two values
    can never merge into one series."""
    named = {}
    for name, values in series.items():
        label = value_label(key, name)
        named[f"{label} ({name})" if label else str(name)] = values
    return named


# Keys of an alert's `details` (apps.audit.anomalies; `seq` in alerts raised before).
ALERT_DETAIL_LABELS: dict[str, Any] = {
    "reads": _("Reads"),
    "baseline_daily_mean": _("Daily mean of the baseline"),
    "rows": _("Rows read"),
    "fields": _("Fields"),
    "dataset": _("Dataset"),
    "denied": _("Denied requests"),
    "datasets": _("Datasets"),
    "seq": _("Event"),
    "first_seq": _("First event"),
    "last_seq": _("Last event"),
}
_ALERT_DETAIL_HIDDEN = frozenset({"dataset_id"})  # for the detectors, not for readers
_EVENT_KEYS = frozenset({"seq", "first_seq", "last_seq"})


def alert_detail_items(details: Any) -> list[tuple[str, str]]:
    """An alert's details as (label, text) lines: event numbers as #n, lists comma-separated,
    unknown keys under their own name; never a Python literal."""
    if not isinstance(details, Mapping):
        return []
    items = []
    for key, value in details.items():
        if key in _ALERT_DETAIL_HIDDEN or is_empty(value):
            continue
        if key in _EVENT_KEYS and isinstance(value, int):
            text = f"#{value}"
        elif isinstance(value, list | tuple):
            text = ", ".join(str(v) for v in value)
        elif isinstance(value, dict):
            text = ", ".join(f"{k}: {v}" for k, v in value.items())
        else:
            text = str(value)
        items.append((str(ALERT_DETAIL_LABELS.get(key, key)), text))
    return items


def local_time(when: Any, *, precise: bool = False) -> str:
    """A time in the platform's zone, saying which: `2026-11-26 15:09 (UTC+08:00,
    Asia/Shanghai)`, with seconds and microseconds when `precise`. The log stores UTC; a time
    without its zone reads eight hours off to anyone who assumes the other one."""
    local = timezone.localtime(when)
    shown = local.strftime("%Y-%m-%d %H:%M:%S.%f" if precise else "%Y-%m-%d %H:%M")
    offset = local.strftime("%z")
    return f"{shown} (UTC{offset[:3]}:{offset[3:]}, {timezone.get_current_timezone_name()})"
