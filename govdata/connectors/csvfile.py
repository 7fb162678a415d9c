"""CSV files uploaded by an officer: UTF-8 (with or without BOM) or GBK/GB18030, streamed."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from charset_normalizer import from_bytes
from django.utils.translation import gettext as _

from govdata.connectors.base import Connector, SourceData, SourceFormatError, register

SAMPLE_BYTES = 1 << 20
# GB18030 is a superset of GBK and GB2312: decoding with it never rejects a valid GBK file.
_CHINESE_LEGACY = {"gbk", "gb2312", "cp936", "gb18030", "hz", "big5"}
csv.field_size_limit(1 << 24)


def detect_encoding(path: Path) -> str:
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample:
        raise SourceFormatError(_("The file is empty (0 bytes)."))
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4:  # the sample cut a multi-byte character in half
            return "utf-8"
    best = from_bytes(sample[:200_000]).best()
    if best is None:
        raise SourceFormatError(
            _("Cannot detect the file's character encoding; choose it explicitly.")
        )
    name = best.encoding.lower().replace("_", "")
    return "gb18030" if name in _CHINESE_LEGACY else best.encoding


@register
class CsvFileConnector(Connector):
    """options: path, encoding (optional override), delimiter (default ',')."""

    kind = "csv"

    @contextmanager
    def open(self, *, watermark_column=None, since=None) -> Iterator[SourceData]:
        path = Path(self.options["path"])
        if not path.exists():
            raise SourceFormatError(
                _("The uploaded file %(name)s is missing.") % {"name": path.name}
            )
        encoding = self.options.get("encoding") or detect_encoding(path)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SourceFormatError(_("Unknown encoding “%(enc)s”.") % {"enc": encoding}) from None
        if encoding.lower().replace("-", "") == "utf8":
            encoding = "utf-8-sig"  # tolerate a BOM even when the officer chose UTF-8
        with open(path, encoding=encoding, newline="", errors="strict") as fh:
            reader = csv.reader(fh, delimiter=self.options.get("delimiter", ","), strict=True)
            try:
                header = next(reader, None)
            except (UnicodeDecodeError, csv.Error) as exc:
                raise _format_error(exc, 1, encoding, path) from None
            if header is None:
                raise SourceFormatError(_("The file is empty."))
            size = max(1, path.stat().st_size)
            yield SourceData(
                columns=header,
                rows=_rows(reader, encoding, path),
                progress=lambda: fh.buffer.tell() / size,
            )


def _first_bad_line(path: Path, encoding: str) -> int:
    """The first line that does not decode (text I/O decodes in chunks, so the reader's own
    position is only approximate). Runs on the error path only."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                decoder.decode(line)
            except UnicodeDecodeError:
                return number
    return 0


def _format_error(exc: Exception, row: int, encoding: str, path: Path) -> SourceFormatError:
    if isinstance(exc, UnicodeDecodeError):
        return SourceFormatError(
            _("Line %(row)d cannot be decoded as %(enc)s; choose the file's real encoding.")
            % {"row": _first_bad_line(path, encoding) or row, "enc": encoding}
        )
    return SourceFormatError(
        _("Row %(row)d is not valid CSV (%(error)s), e.g. an unclosed quote.")
        % {"row": row, "error": exc}
    )


def _rows(reader, encoding: str, path: Path):
    row_number = 1
    try:
        for row_number, row in enumerate(reader, start=2):  # noqa: B007 - used in the handler
            if row:
                yield row_number, row
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _format_error(exc, row_number + 1, encoding, path) from None
