"""The framework-free rules of govdata.policy, including cases the database cannot hold
(an unknown masking rule on a field)."""

from __future__ import annotations

from govdata.policy import FieldRule, GrantRule, evaluate

FIELDS = [
    FieldRule(1, "open", "unconditional", "none"),
    FieldRule(2, "open_masked", "unconditional", "mobile"),
    FieldRule(3, "cond", "conditional", "name"),
    FieldRule(4, "closed", "none", "redact"),
    FieldRule(5, "weird_mask", "unconditional", "rot13"),
    FieldRule(6, "weird_type", "sometimes", "none"),
]


def _masks(**kwargs) -> dict[str, str]:
    kwargs.setdefault("dataset_sharing_type", "conditional")
    kwargs.setdefault("dataset_published", True)
    kwargs.setdefault("is_owner", False)
    return {name: out.mask for name, out in evaluate(fields=FIELDS, **kwargs).fields.items()}


def test_owner_reads_every_field_in_clear_even_unknown_ones():
    assert _masks(is_owner=True) == {f.name: "none" for f in FIELDS}


def test_non_owner_without_grants_reads_unconditional_known_masks_only():
    assert _masks() == {"open": "none", "open_masked": "mobile"}


def _evaluate(grants, fields=FIELDS):
    return evaluate(
        is_owner=False,
        dataset_sharing_type="conditional",
        dataset_published=True,
        fields=fields,
        grants=grants,
    ).fields


def test_a_grant_gives_the_stricter_of_the_fields_mask_and_its_override():
    assert _evaluate([GrantRule(8, 3, "hash", None)])["cond"].mask == "hash"
    assert _evaluate([GrantRule(8, 3, "none", None)])["cond"].mask == "name"  # never weaker


def test_a_grant_on_every_row_decides_alone_and_the_least_strict_of_them_wins():
    # Grant 8 is narrower (a row filter) and stricter: it takes nothing away from grant 7.
    result = _evaluate([GrantRule(7, 3, None, None), GrantRule(8, 3, "hash", {"open": 1})])
    assert (result["cond"].mask, result["cond"].grant_ids, result["cond"].rows) == (
        "name", (7,), None,
    )  # fmt: skip
    both_whole = _evaluate([GrantRule(7, 3, "redact", None), GrantRule(9, 3, "hash", None)])
    assert (both_whole["cond"].mask, both_whole["cond"].grant_ids) == ("hash", (9,))


def test_filtered_grants_alone_give_their_rows_with_the_strictest_of_their_masks():
    result = _evaluate([GrantRule(7, 3, None, {"open": 1}), GrantRule(8, 3, "hash", {"open": 2})])
    assert result["cond"].mask == "hash" and result["cond"].grant_ids == (7, 8)
    assert result["cond"].rows == ({"open": 1}, {"open": 2})


def test_a_row_filter_on_a_field_its_own_grant_gives_in_clear_is_trusted():
    fields = [*FIELDS, FieldRule(8, "cond2", "conditional", "none")]
    grants = [
        GrantRule(7, 8, None, {"cond2__gte": "A"}),
        GrantRule(7, 3, None, {"cond2__gte": "A"}),
    ]
    result = _evaluate(grants, fields)
    assert result["cond2"].rows == ({"cond2__gte": "A"},) and "cond" in result


def test_a_field_given_only_by_filtered_grants_is_readable_on_the_rows_of_any_of_them():
    grants = [GrantRule(8, 3, None, {"open": 1}), GrantRule(9, 3, None, {"open__in": [2]})]
    result = evaluate(
        is_owner=False,
        dataset_sharing_type="conditional",
        dataset_published=True,
        fields=FIELDS,
        grants=grants,
    )
    assert result.fields["cond"].rows == ({"open": 1}, {"open__in": [2]})
    assert result.fields["open"].rows is None


def test_grant_never_opens_none_fields_nor_fields_with_unknown_masks():
    grants = [GrantRule(1, 4), GrantRule(1, 5), GrantRule(1, 6), GrantRule(2, 3, "bogus")]
    assert _masks(grants=grants) == {"open": "none", "open_masked": "mobile"}


def test_none_or_unpublished_dataset_is_closed_to_non_owners():
    assert _masks(dataset_sharing_type="none") == {}
    assert _masks(dataset_published=False) == {}


def test_row_filters_come_only_from_grants_relied_on():
    grants = [GrantRule(9, 4, None, {"district": "x"})]  # a grant on a `none` field
    result = evaluate(
        is_owner=False,
        dataset_sharing_type="conditional",
        dataset_published=True,
        fields=FIELDS,
        grants=grants,
    )
    assert all(outcome.rows is None for outcome in result.fields.values())


def test_never_published_field_is_closed_to_non_owners_even_with_a_grant():
    fields = [*FIELDS, FieldRule(7, "new", None, None)]
    opened = evaluate(
        is_owner=False,
        dataset_sharing_type="conditional",
        dataset_published=True,
        fields=fields,
        grants=[GrantRule(3, 7)],
    )
    assert "new" not in opened.fields
    owned = evaluate(
        is_owner=True, dataset_sharing_type="conditional", dataset_published=True, fields=fields
    )
    assert owned.fields["new"].mask == "none"


def test_a_grant_whose_row_filter_names_a_field_no_longer_read_in_clear_gives_nothing():
    # Field 1 ("open") was unconditional and clear when the grant was made; now it is masked.
    masked_open = [
        FieldRule(1, "open", "unconditional", "mobile") if f.field_id == 1 else f for f in FIELDS
    ]
    grants = [GrantRule(7, 3, None, {"open": "x"})]
    kwargs = {"is_owner": False, "dataset_sharing_type": "conditional", "dataset_published": True}
    assert "cond" in evaluate(fields=FIELDS, grants=grants, **kwargs).fields
    assert "cond" not in evaluate(fields=masked_open, grants=grants, **kwargs).fields
    # A filter on a field that is itself readable on some rows only is not trusted either.
    chained = [GrantRule(7, 3, None, {"cond2": "x"}), GrantRule(8, 8, None, {"open": "y"})]
    fields = [*FIELDS, FieldRule(8, "cond2", "conditional", "none")]
    result = evaluate(fields=fields, grants=chained, **kwargs).fields
    assert "cond" not in result and result["cond2"].rows == ({"open": "y"},)
