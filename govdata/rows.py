"""Row validation compiled for speed: the per-row function is generated once per run with one
line per field (no loop, no dispatch, no dict per row), low-cardinality values are memoised, and
the slow, thorough path runs only for a row that failed, to name every bad field."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from govdata.validation import _STRIP, FieldError, FieldSpec, field_validator, halfwidth
from govdata.vocabulary import DataType

# Types whose values repeat a lot in real data (dates, codes, enums, flags): memoise the result.
MEMO_TYPES = {
    DataType.DATE,
    DataType.DATETIME,
    DataType.BOOLEAN,
    DataType.ENUM,
    DataType.INTEGER,
    DataType.CREDIT_CODE,
}
MEMO_LIMIT = 50_000
# Validated values of these types never contain a comma, quote or line break: no CSV quoting.
_SAFE_TYPES = MEMO_TYPES - {DataType.ENUM} | {DataType.ID_CARD, DataType.MOBILE, DataType.DECIMAL}
_MISSING = object()


class RowValidator:
    """Maps source columns to the dataset's fields by name and validates rows.

    `row(raw, number)` returns the row as one line of CSV for COPY (source row number first; NULL
    is an unquoted empty field), or None when the row has an error; `errors(raw)` then lists every
    (field, reason, raw value) of that row."""

    def __init__(
        self, *, specs: Sequence[FieldSpec], source_columns: Sequence[str], key_field: str
    ) -> None:
        self.specs = list(specs)
        index = {halfwidth(str(c)).strip(_STRIP): i for i, c in enumerate(source_columns)}
        if key_field not in index:
            raise FieldError(
                _("the key column “%(key)s” is missing from the source (columns: %(cols)s)")
                % {"key": key_field, "cols": ", ".join(map(str, source_columns)) or "-"}
            )
        missing = [s.name for s in self.specs if s.required and s.name not in index]
        if missing:
            raise FieldError(
                _("required columns are missing from the source: %(cols)s")
                % {"cols": ", ".join(missing)}
            )
        names = {s.name for s in self.specs}
        self.extra_columns = [c for c in index if c not in names]
        self.positions = [index.get(s.name) for s in self.specs]
        self.checks = [field_validator(s) for s in self.specs]
        self.required = [s.required or s.name == key_field for s in self.specs]
        self.width = max((p for p in self.positions if p is not None), default=-1) + 1
        self.row = self._compile()

    def _compile(self) -> Callable[[Sequence[Any], int], str | None]:
        env: dict[str, Any] = {
            "_S": _STRIP,
            "_M": _MISSING,
            "_L": MEMO_LIMIT,
            "_Q": '"',
            "_QQ": '""',
            "_NL": "\n",
            "str": str,
        }
        body = [
            "def row(raw, number):",
            f"    if len(raw) < {self.width}:",
            "        return None",
            "    try:",
        ]
        outs = []
        for i, (spec, pos, check, required) in enumerate(
            zip(self.specs, self.positions, self.checks, self.required, strict=True)
        ):
            if pos is None:
                if required:
                    return self._slow_only
                outs.append("''")
                continue
            env[f"c{i}"] = check
            body.append(f"        x = raw[{pos}]")
            if spec.data_type == DataType.STRING:
                body.append(
                    f"        v{i} = (x.strip(_S) or None) if x.__class__ is str else c{i}(x)"
                )
            elif spec.data_type in MEMO_TYPES:
                env[f"m{i}"] = {}
                body += [
                    f"        v{i} = m{i}.get(x, _M)",
                    f"        if v{i} is _M:",
                    f"            v{i} = c{i}(x)",
                    f"            if len(m{i}) < _L:",
                    f"                m{i}[x] = v{i}",
                ]
            else:
                body.append(f"        v{i} = c{i}(x)")
            if required:
                body += [f"        if v{i} is None:", "            return None"]
            if spec.data_type in _SAFE_TYPES:
                outs.append(f"v{i} or ''")
            else:  # free text: always quoted, quotes doubled (CSV)
                outs.append(f"(_Q + v{i}.replace(_Q, _QQ) + _Q) if v{i} else ''")
        body += [
            "    except (ValueError, TypeError, AttributeError):",
            "        return None",
            f"    return ','.join((str(number), {', '.join(outs)})) + _NL",
        ]
        exec("\n".join(body), env)  # noqa: S102 - built from our own field list  # nosec B102
        return env["row"]

    def _slow_only(self, raw: Sequence[Any], number: int) -> str | None:
        return None

    def errors(self, raw: Sequence[Any]) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        width = len(raw)
        for spec, pos, check, required in zip(
            self.specs, self.positions, self.checks, self.required, strict=True
        ):
            value = raw[pos] if pos is not None and pos < width else None
            try:
                clean = check(value)
            except (FieldError, ValueError, TypeError) as exc:
                found.append((spec.name, str(exc), "" if value is None else str(value)[:200]))
                continue
            if clean is None and required:
                found.append((spec.name, _("a value is required"), ""))
        if not found and width < self.width:
            found.append(("", _("the row has fewer columns than the header"), ""))
        return found

    def validate(self, raw: Sequence[Any]) -> tuple[str | None, list[tuple[str, str, str]]]:
        """Convenience for tests and small callers: (COPY line or None, errors)."""
        line = self.row(raw, 0)
        return (line, []) if line is not None else (None, self.errors(raw))
