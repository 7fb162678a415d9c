"""CSV cells that spreadsheets will not run as formulas (OWASP "CSV injection").

Excel, WPS and LibreOffice evaluate a cell whose text starts with `=`, `+`, `-` or `@` (and,
after a tab or carriage return, whatever follows), so a value typed by someone else, such as an
agency's stated purpose or a source system's row, can call DDE or exfiltrate the sheet's other
cells through HYPERLINK when an officer or auditor opens the file. Such a cell is written with a
leading apostrophe, which the spreadsheet shows as text; the exact value stays available in the
machine-readable exports (JSON, NDJSON)."""

from __future__ import annotations

from typing import Any

# The OWASP list, plus the full-width forms that CJK input methods produce: spreadsheets in a
# Chinese locale may read them as the ASCII operators.
FORMULA_STARTS = frozenset("=+-@\t\r" + "＝＋－＠")


def csv_safe(value: Any) -> Any:
    """`value` as a spreadsheet-inert cell: a string that could start a formula gets a leading
    `'`; anything else (numbers, empty strings) is returned as it is."""
    if isinstance(value, str) and value and value[0] in FORMULA_STARTS:
        return "'" + value
    return value
