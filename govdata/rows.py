"""Row validation compiled for speed: the per-row function is generated once per run with one
line per field (no loop, no dispatch, no dict per row), low-cardinality values are memoised, and
the slow, thorough path runs only for a row that failed, to name every bad field."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from govdata.messages import listing
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
    """Maps source columns to the dataset's fields and validates rows.

    A column is a field's when its header is the field's name or the field's label (officers'
    spreadsheets are headed with the labels, as the responsibility list's export is), compared
    as half-width text without surrounding blanks. What the header cannot mean is refused
    before any row is read: no key column, a required field without a column, two columns for
    one field, and an optional field without a column while some column is no field's (a
    misspelt or renamed header: reading on would blank that field in every record). An
    optional field the source simply does not have, with no stray column, stays empty.

    `row(raw, number)` returns the row as one line of CSV for COPY (source row number first; NULL
    is an unquoted empty field), or None when the row has an error; `errors(raw)` then lists every
    (field, reason, raw value) of that row."""

    def __init__(
        self, *, specs: Sequence[FieldSpec], source_columns: Sequence[str], key_field: str
    ) -> None:
        self.specs = list(specs)
        found, unknown = _match_columns(self.specs, source_columns)
        if key_field not in found:
            raise _key_missing(self.specs, source_columns, key_field)
        for spec in self.specs:
            if len(found.get(spec.name, ())) > 1:
                raise FieldError(
                    gettext_noop(
                        "the field %(field)s has more than one column in the source: columns "
                        "%(positions)s; keep one of them"
                    ),
                    {
                        "field": _field_name(spec),
                        "positions": ", ".join(
                            f"{i + 1} ({_header(source_columns[i])})" for i in found[spec.name]
                        ),
                    },
                )
        missing = [s for s in self.specs if s.name not in found]
        required = [s.name for s in missing if s.required]
        if required:
            raise FieldError(
                gettext_noop("required columns are missing from the source: %(cols)s"),
                {"cols": ", ".join(required)},
            )
        if missing and getattr(source_columns, "keyed", False):
            # Records keyed by name: a field the first records left out may come later.
            source_columns.want([s.name for s in missing])  # type: ignore[attr-defined]
            found, unknown = _match_columns(self.specs, source_columns)
        elif missing and unknown:
            raise FieldError(
                gettext_noop(
                    "no column for the fields %(fields)s; columns not in the dataset: %(cols)s. "
                    "Head each column with its field's name or label."
                ),
                {"fields": listing(map(_field_name, missing)), "cols": listing(unknown)},
            )
        self.extra_columns = unknown
        self.positions = [found[s.name][0] if s.name in found else None for s in self.specs]
        self.checks = [field_validator(s) for s in self.specs]
        self.required = [s.required or s.name == key_field for s in self.specs]
        self.width = max((p for p in self.positions if p is not None), default=-1) + 1
        self.header_width = len(source_columns)
        self.row = self._compile()

    def _compile(self) -> Callable[[Sequence[Any], int], str | None]:
        env: dict[str, Any] = {
            "_S": _STRIP,
            "_M": _MISSING,
            "_L": MEMO_LIMIT,
            "_Q": '"',
            "_QQ": '""',
            "_NL": "\n",
            "_X": extra_values,
            "str": str,
        }
        body = [
            "def row(raw, number):",
            f"    if len(raw) < {self.width}:",
            "        return None",
            f"    if len(raw) > {self.header_width} and _X(raw, {self.header_width}):",
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
        extra = extra_values(raw, self.header_width)
        if extra:
            # Usually an unquoted delimiter inside a value: the values are shifted or cut, so
            # the row is refused even when each value happens to pass its field's check.
            found.append(
                ("", _("the row has more columns than the header"), ", ".join(extra)[:200])
            )
        return found

    def validate(self, raw: Sequence[Any]) -> tuple[str | None, list[tuple[str, str, str]]]:
        """Convenience for tests and small callers: (COPY line or None, errors)."""
        line = self.row(raw, 0)
        return (line, []) if line is not None else (None, self.errors(raw))


def extra_values(raw: Sequence[Any], width: int) -> list[str]:
    """The non-empty values of a row beyond the header's width. Empty ones are no data: a
    trailing delimiter on every row, as some exports write, refuses nothing."""
    return [text for text in (str(v).strip(_STRIP) for v in raw[width:] if v is not None) if text]


def _header(column: Any) -> str:
    return halfwidth(str(column)).strip(_STRIP)


def _field_name(spec: FieldSpec) -> str:
    return f"{spec.name} ({spec.label})" if spec.label else spec.name


def _match_columns(
    specs: Sequence[FieldSpec], source_columns: Sequence[Any]
) -> tuple[dict[str, list[int]], list[str]]:
    """({field name: positions of its columns}, headers that name no field). A header is a
    field's name or, failing that, its label; a label two fields share, or that is another
    field's name, names neither. Empty headers name nothing and count as no column."""
    names = {s.name: s for s in specs}
    labels: dict[str, FieldSpec | None] = {}
    for spec in specs:
        label = _header(spec.label) if spec.label else ""
        if label and label not in names:
            labels[label] = None if label in labels else spec
    found: dict[str, list[int]] = {}
    unknown: list[str] = []
    for position, column in enumerate(source_columns):
        header = _header(column)
        if not header:
            continue
        spec = names.get(header) or labels.get(header)
        if spec is None:
            unknown.append(header)
        else:
            found.setdefault(spec.name, []).append(position)
    return found, unknown


def _key_missing(
    specs: Sequence[FieldSpec], source_columns: Sequence[Any], key_field: str
) -> FieldError:
    """The error for a source without its key column, with what most likely went wrong when
    the source tells: a header further down (a title row above it), or a text file split with
    the wrong delimiter (the whole header is one column)."""
    spec = next((s for s in specs if s.name == key_field), None)
    wanted = {key_field} | ({_header(spec.label)} if spec is not None and spec.label else set())
    for number, values in getattr(source_columns, "following", ()):
        if any(_header(v) in wanted for v in values if v is not None):
            return FieldError(
                gettext_noop(
                    "the key column “%(key)s” is not in the header, but row %(row)d has it: is "
                    "there a title above the header? Make the header the first row, or set "
                    '"header_row": %(row)d in the source\'s options.'
                ),
                {"key": key_field, "row": number},
            )
    delimiter = getattr(source_columns, "delimiter", None)
    headers = [h for h in map(_header, source_columns) if h]
    if delimiter and len(headers) == 1 and any(c in headers[0] for c in ";\t|," if c != delimiter):
        return FieldError(
            gettext_noop(
                "the key column “%(key)s” is missing: the header is one single column, so the "
                'file is probably not separated by “%(delimiter)s”. Set "delimiter" in the '
                'source\'s options (for example ";", or "\\t" for a tab).'
            ),
            {"key": key_field, "delimiter": {"\t": "\\t"}.get(delimiter, delimiter)},
        )
    return FieldError(
        gettext_noop("the key column “%(key)s” is missing from the source (columns: %(cols)s)"),
        {"key": key_field, "cols": ", ".join(map(str, source_columns)) or "-"},
    )
