"""Excel .xlsx files, read with openpyxl in read-only (streaming) mode."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.utils.translation import gettext as _

from govdata.connectors.base import Connector, SourceData, SourceFormatError, register


def _cell(value):
    # Excel stores every number as a float; 12.0 in an integer column is meant as 12.
    if type(value) is float and value.is_integer():
        return int(value)
    return value


@register
class XlsxFileConnector(Connector):
    """options: path, sheet (optional name; default the first sheet)."""

    kind = "xlsx"

    @contextmanager
    def open(self, *, watermark_column=None, since=None) -> Iterator[SourceData]:
        from openpyxl import load_workbook

        path = Path(self.options["path"])
        if not path.exists() or path.stat().st_size == 0:
            raise SourceFormatError(_("The file is empty (0 bytes)."))
        try:
            workbook = load_workbook(path, read_only=True, data_only=True)
        except zipfile.BadZipFile:
            # The library's own text ("File is not a zip file") would be English in any language.
            raise SourceFormatError(
                _(
                    "The file is not a readable .xlsx workbook: it is not a ZIP archive (an old "
                    ".xls file, or another file renamed to .xlsx)."
                )
            ) from None
        except (KeyError, OSError, ValueError) as exc:
            raise SourceFormatError(
                _("The file is not a readable .xlsx workbook (%(error)s).") % {"error": exc}
            ) from None
        try:
            sheet_name = self.options.get("sheet")
            sheet = workbook[sheet_name] if sheet_name else workbook.worksheets[0]
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                raise SourceFormatError(_("The worksheet is empty."))
            columns = ["" if c is None else str(c) for c in header]
            yield SourceData(columns=columns, rows=_rows(rows))
        finally:
            workbook.close()


def _rows(rows):
    for number, row in enumerate(rows, start=2):
        if any(v is not None for v in row):
            yield number, [_cell(v) for v in row]
