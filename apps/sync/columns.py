"""Column-wise validation of an Arrow batch with exactly the semantics of `RowValidator.row`
(govdata/rows.py): the same accepted rows, the same normal form of every value.

Every value is either *certainly* valid and unchanged (decided by vectorised kernels that accept a
strict subset of what the field's validator accepts), or it goes through the very same per-field
closure as the Python path (`govdata.validation.field_validator`), so normal forms and failures
are the Python path's by construction:
- memoised types (rows.MEMO_TYPES: dates, datetimes, booleans, enums, integers, credit codes):
  the column is dictionary-encoded and the closure runs once per distinct value, remembered
  across batches (up to rows.MEMO_LIMIT values per column, as in the Python path);
- strings: the `_STRIP` characters trimmed from both ends, empty → NULL;
- ID card numbers: 18 ASCII characters, 17 digits, the right check character, a birth date
  between 1800-01-01 and today and a region code known in the birth year (stdnum's table, through
  the validation module's cache);
- mobiles and decimals: the closure's own fast-path pattern (RE2, anchored);
- an empty value of any other type is NULL (every closure maps "" to None).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from govdata.rows import MEMO_LIMIT, MEMO_TYPES, RowValidator
from govdata.validation import _STRIP, _region_ok
from govdata.vocabulary import DataType

_FAIL = (ValueError, TypeError, AttributeError)  # what RowValidator.row treats as a bad row
_NULL = pa.scalar(None, pa.string())
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int32)
_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)
_PATTERNS = {
    DataType.MOBILE: r"^1[3-9][0-9]{9}$",
    DataType.DECIMAL: r"^-?[0-9]{1,30}(\.[0-9]{1,30})?$",
}


def _call(check, value):
    try:
        return check(value), False
    except _FAIL:
        return None, True


class _Memo:
    """A memoised field: its closure's result per distinct raw value, kept across batches."""

    def __init__(self, check) -> None:
        self.check = check
        self.values = pa.array([], pa.string())
        self.outputs: list[str | None] = []
        self.failed: list[bool] = []
        self.out_arr = pa.array([], pa.string())
        self.fail_np = np.zeros(0, dtype=bool)

    def apply(self, column: pa.Array) -> tuple[pa.Array, np.ndarray]:
        encoded = column.dictionary_encode()
        distinct, indices = encoded.dictionary, encoded.indices.to_numpy()
        pos = pc.index_in(distinct, value_set=self.values)
        unknown = np.flatnonzero(pos.is_null().to_numpy(zero_copy_only=False))
        pos = pc.fill_null(pos, 0).to_numpy()
        if len(self.values):
            out_d = self.out_arr.take(pos)
            fail_d = self.fail_np[pos]
        else:
            out_d = pa.nulls(len(distinct), pa.string())
            fail_d = np.zeros(len(distinct), dtype=bool)
        if unknown.size:
            new = distinct.take(unknown).to_pylist()
            results = [_call(self.check, x) for x in new]
            mask = np.zeros(len(distinct), dtype=bool)
            mask[unknown] = True
            out_d = pc.replace_with_mask(
                out_d, pa.array(mask), pa.array([r[0] for r in results], pa.string())
            )
            fail_d = fail_d.copy()
            fail_d[unknown] = [r[1] for r in results]
            room = MEMO_LIMIT - len(self.outputs)
            if room > 0:
                self.values = pa.concat_arrays([self.values, pa.array(new[:room], pa.string())])
                self.outputs += [r[0] for r in results[:room]]
                self.failed += [r[1] for r in results[:room]]
                self.out_arr = pa.array(self.outputs, pa.string())
                self.fail_np = np.array(self.failed, dtype=bool)
        return out_d.take(indices), fail_d[indices]


def _fixed_width(column: pa.Array, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(rows whose value is exactly `width` bytes long, their bytes as a (k, width) matrix)."""
    n = len(column)
    if column.buffers()[2] is None:  # no value has any bytes
        return np.zeros(0, dtype=np.int64), np.zeros((0, width), dtype=np.uint8)
    offsets = np.frombuffer(
        column.buffers()[1], dtype=np.int32, count=n + 1, offset=column.offset * 4
    )
    data = np.frombuffer(column.buffers()[2], dtype=np.uint8)
    if offsets[-1] - offsets[0] == n * width and (np.diff(offsets) == width).all():
        start = offsets[0]  # every value has that width: the bytes are the matrix already
        return np.arange(n), data[start : start + n * width].reshape(n, width)
    rows = np.flatnonzero(np.diff(offsets) == width)
    matrix = data[offsets[rows][:, None] + np.arange(width)]
    return rows, matrix


def _number(digits: np.ndarray) -> np.ndarray:
    """Up to 9 decimal digits per row as one int32 per row."""
    return digits @ (10 ** np.arange(digits.shape[1] - 1, -1, -1, dtype=np.int32))


class _IdCards:
    """Which resident ID numbers are certainly valid as they are (GB 11643)."""

    def __init__(self) -> None:
        self.regions: dict[int, bool] = {}

    def certain(self, column: pa.Array) -> np.ndarray:
        ok = np.zeros(len(column), dtype=bool)
        rows, m = _fixed_width(column, 18)
        if not rows.size:
            return ok
        good = ((m[:, :17] - np.uint8(48)) <= 9).all(axis=1)  # ASCII digits (uint8 wraps)
        digits = m[:, :17].astype(np.int32) - 48
        check = (1 - digits @ _ID_WEIGHTS) % 11
        good &= m[:, 17] == np.where(check == 10, 88, 48 + check)
        year = _number(digits[:, 6:10])
        month = digits[:, 10] * 10 + digits[:, 11]
        day = digits[:, 12] * 10 + digits[:, 13]
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        days = _DAYS[np.clip(month, 0, 12)] + ((month == 2) & leap)
        today = dt.date.today()
        ymd = year * 10000 + month * 100 + day
        good &= (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
        good &= (ymd >= 18000101) & (ymd <= today.year * 10000 + today.month * 100 + today.day)
        region_year = _number(digits[:, :6]).astype(np.int64) * 10000 + year
        distinct, inverse = np.unique(np.where(good, region_year, -1), return_inverse=True)
        known = np.array([self._region(int(v)) for v in distinct], dtype=bool)
        good &= known[inverse.reshape(-1)]
        ok[rows[good]] = True
        return ok

    def _region(self, value: int) -> bool:
        if value < 0:
            return False
        known = self.regions.get(value)
        if known is None:
            known = self.regions[value] = _region_ok(f"{value:010d}")
        return known


class BatchValidator:
    """Validates Arrow batches (all columns text) column by column, as `validator.row` would
    validate each of their rows."""

    def __init__(self, validator: RowValidator) -> None:
        self.validator = validator
        self.plans = []
        for spec, pos, check, required in zip(
            validator.specs, validator.positions, validator.checks, validator.required, strict=True
        ):
            kind = spec.data_type
            if kind == DataType.STRING:
                state = None
            elif kind in MEMO_TYPES:
                state = _Memo(check)
            elif kind == DataType.ID_CARD:
                state = _IdCards()
            else:
                state = _PATTERNS.get(kind)
            self.plans.append((kind, pos, check, required, state))

    def validate(self, batch: pa.RecordBatch) -> tuple[list[pa.Array], np.ndarray]:
        """(the staging columns in field order, True for each row `validator.row` refuses)."""
        n = batch.num_rows
        failed = np.zeros(n, dtype=bool)
        out = []
        for kind, pos, check, required, state in self.plans:
            if pos is None:
                out.append(pa.nulls(n, pa.string()))
                if required:
                    failed[:] = True
                continue
            column = batch.column(pos)
            if kind == DataType.STRING:
                trimmed = pc.utf8_trim(column, characters=_STRIP)
                values = pc.if_else(pc.equal(pc.binary_length(trimmed), 0), _NULL, trimmed)
            elif isinstance(state, _Memo):
                values, bad = state.apply(column)
                failed |= bad
            else:
                if isinstance(state, _IdCards):
                    certain = state.certain(column)
                elif state is not None:
                    certain = pc.match_substring_regex(column, state).to_numpy(zero_copy_only=False)
                else:
                    certain = np.zeros(n, dtype=bool)
                values, bad = _the_rest(column, certain, check)
                failed |= bad
            if required:
                failed |= values.is_null().to_numpy(zero_copy_only=False)
            out.append(values)
        return out, failed


def _the_rest(column: pa.Array, certain: np.ndarray, check) -> tuple[pa.Array, np.ndarray]:
    """Values not certainly valid: "" is NULL, anything else goes through the closure."""
    empty = pc.equal(pc.binary_length(column), 0).to_numpy(zero_copy_only=False)
    slow = np.flatnonzero(~certain & ~empty)
    bad = np.zeros(len(column), dtype=bool)
    replace = ~certain
    if not replace.any():
        return column, bad
    results = [_call(check, x) for x in column.take(slow).to_pylist()]
    bad[slow] = [r[1] for r in results]
    replacement = np.full(len(column), None, dtype=object)
    replacement[slow] = [r[0] for r in results]
    values = pc.replace_with_mask(
        column, pa.array(replace), pa.array(replacement[replace], pa.string())
    )
    return values, bad
