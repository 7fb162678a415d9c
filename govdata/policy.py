"""Which fields of one dataset may one department read, and how masked: pure rules, no Django.

Inputs are plain values loaded by apps.sharing.policy in a fixed number of queries; the rules:

- a field is judged by its *published* sharing type and mask (what the last publication
  promised, with its reason), never by a draft edit; a field never published (``None``) is not
  readable by non-owners;
- the owning department reads every field of its own dataset in clear, published or not;
- non-owners read nothing of an unpublished dataset or of a dataset classified ``none``;
- a ``none`` field is never readable by a non-owner;
- an ``unconditional`` field is readable by all, with the field's declared mask;
- a ``conditional`` field is readable only through a live grant; each grant gives it with the
  stricter of the field's mask and the grant's override; grants covering every row (no row
  filter) decide alone, the least strict of them winning; without one, the field is readable
  on the rows any filtered grant matches, with the strictest of their masks;
  a read returns only the rows on which every field it selects rows by (filters, orders by,
  looks up) is readable, a field it only returns is NULL on the rows where it is not, and rows
  on which nothing it returns is readable are left out: another grant's row filter never
  narrows a field it does not give, and an added grant never takes away what the department
  could read; a row filter is trusted only while every field it names is readable in clear, on
  every row or through the grant itself (else its grant gives nothing: the filter would tell
  those values);
- an unknown masking rule excludes the field (fail closed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from govdata.masking import MASK_STRICTNESS, is_known_rule, stricter_mask
from govdata.vocabulary import SharingType

_LOOKUPS = frozenset({"exact", "in", "gte", "lte", "contains"})  # as in row filters


@dataclass(frozen=True)
class FieldRule:
    """A field as consumers are held to it: the published sharing type and mask, or ``None``
    for both when the field has never been published."""

    field_id: int
    name: str
    sharing_type: str | None
    masking: str | None


@dataclass(frozen=True)
class GrantRule:
    """One live grant's right on one field (the caller has already dropped expired grants)."""

    grant_id: int
    field_id: int
    mask_override: str | None = None
    row_filter: dict | None = None


@dataclass(frozen=True)
class FieldOutcome:
    mask: str
    grant_ids: tuple[int, ...] = ()
    # The rows on which the field is readable: None for every row, else those matching any of
    # these row filters (API lookup syntax, all lookups of one filter holding).
    rows: tuple[dict, ...] | None = None


@dataclass(frozen=True)
class Evaluation:
    fields: dict[str, FieldOutcome]


def evaluate(
    *,
    is_owner: bool,
    dataset_sharing_type: str,
    dataset_published: bool,
    fields: Sequence[FieldRule],
    grants: Sequence[GrantRule] = (),
) -> Evaluation:
    """`fields` in the order the answer should keep (position order)."""
    if is_owner:
        return Evaluation(fields={f.name: FieldOutcome(mask="none") for f in fields})
    if not dataset_published or dataset_sharing_type not in (
        SharingType.UNCONDITIONAL,
        SharingType.CONDITIONAL,
    ):
        return Evaluation(fields={})

    # A row filter says which rows its grant covers, and so the values of the fields it
    # names on every row read through it: it is trusted only while those fields are readable
    # in clear on every row (a provider may mask or close a field after the grant was made).
    # A grant whose filter is no longer so gives nothing, until the provider grants again.
    result, _trusted = _trusted_readable(fields, grants)
    return Evaluation(fields=result)


def grants_untrusted(*, fields: Sequence[FieldRule], grants: Sequence[GrantRule]) -> set[int]:
    """The grants (ids) whose row filter is not trusted (see the module's rules): they give
    nothing. A provider who makes a filter's field stricter ends them with a reason instead of
    leaving them silently empty (apps.sharing.grant_services)."""
    _result, trusted = _trusted_readable(fields, grants)
    return {g.grant_id for g in grants} - {g.grant_id for g in trusted}


def _trusted_readable(
    fields: Sequence[FieldRule], grants: Sequence[GrantRule]
) -> tuple[dict[str, FieldOutcome], list[GrantRule]]:
    names = {f.field_id: f.name for f in fields}
    trusted = list(grants)
    while True:
        result = _readable(fields, trusted)
        gives = {(g.grant_id, names.get(g.field_id, "")) for g in trusted}
        kept = [g for g in trusted if _filter_readable(g, result, gives)]
        if len(kept) == len(trusted):
            return result, trusted
        trusted = kept


def _granted(rule: FieldRule, grants: Sequence[GrantRule]) -> FieldOutcome | None:
    """A conditional field's outcome from the live grants giving it. Each grant gives it with
    the stricter of the field's mask and its own override. Grants covering every row decide
    alone, the least strict of them winning: a narrower or stricter grant added later never
    takes away what one of them gives. Without such a grant the field is readable on the rows
    of any of the filtered grants, with the strictest of their masks (one mask per field)."""
    given = [
        (g, stricter_mask(rule.masking or "", g.mask_override or rule.masking or ""))
        for g in grants
    ]
    whole = [(g, m) for g, m in given if not g.row_filter]
    if whole:
        mask = min((m for _g, m in whole), key=lambda m: MASK_STRICTNESS.get(m, 99))
        ids = {g.grant_id for g, m in whole if m == mask}
        rows = None
    else:
        mask = max((m for _g, m in given), key=lambda m: MASK_STRICTNESS.get(m, 99))
        ids = {g.grant_id for g, _m in given}
        rows = []
        for g, _m in sorted(given, key=lambda pair: pair[0].grant_id):
            if g.row_filter not in rows:
                rows.append(g.row_filter)
    if not is_known_rule(mask):
        return None
    return FieldOutcome(
        mask=mask, grant_ids=tuple(sorted(ids)), rows=None if rows is None else tuple(rows)
    )


def _filter_readable(
    grant: GrantRule, result: dict[str, FieldOutcome], gives: set[tuple[int, str]]
) -> bool:
    """Whether every field `grant`'s row filter names is readable in clear on every row, or on
    the grant's own rows because the grant gives it (a filter on what the holder reads anyway
    on those rows tells nothing more)."""
    for key in grant.row_filter or {}:
        name = _filtered_field(str(key))
        outcome = result.get(name)
        if outcome is None or outcome.mask != "none":
            return False
        if outcome.rows is not None and (grant.grant_id, name) not in gives:
            return False
    return True


def _filtered_field(key: str) -> str:
    name, sep, lookup = key.rpartition("__")
    return name if sep and lookup in _LOOKUPS else key


def _readable(fields: Sequence[FieldRule], grants: Sequence[GrantRule]) -> dict[str, FieldOutcome]:
    by_field: dict[int, list[GrantRule]] = {}
    for grant in grants:
        by_field.setdefault(grant.field_id, []).append(grant)

    result: dict[str, FieldOutcome] = {}
    for rule in fields:
        if rule.sharing_type is None or rule.masking is None or not is_known_rule(rule.masking):
            continue
        if rule.sharing_type == SharingType.UNCONDITIONAL:
            result[rule.name] = FieldOutcome(mask=rule.masking)
        elif rule.sharing_type == SharingType.CONDITIONAL and rule.field_id in by_field:
            outcome = _granted(rule, by_field[rule.field_id])
            if outcome is not None:
                result[rule.name] = outcome
        # `none` and any unknown sharing type: not readable (fail closed).
    return result
