"""CSV files uploaded by an officer: UTF-8 (with or without BOM) or GBK/GB18030, streamed."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from charset_normalizer import from_bytes
from django.utils.translation import gettext_noop

from govdata.connectors.base import (
    PEEK_ROWS,
    Columns,
    Connector,
    SourceData,
    SourceFormatError,
    header_row_option,
    no_header_row_error,
    register,
)
from govdata.validation import _STRIP

SAMPLE_BYTES = 1 << 20
# Codec names as codecs.lookup() spells them. GB18030 is a superset of GBK and GB2312: decoding
# with it never rejects a valid GBK file.
_CHINESE_LEGACY = {"gbk", "gb2312", "gb18030", "hz"}
# Other East-Asian legacy code pages. Their byte ranges overlap GBK's, so on a short Chinese file
# charset-normalizer often guesses one of them (cp949 for "张三1"): such a guess is never used.
_OTHER_CJK = {
    "big5", "big5hkscs", "cp950", "cp949", "euc_kr", "johab", "iso2022_kr", "shift_jis",
    "cp932", "euc_jp", "euc_jis_2004", "euc_jisx0213", "shift_jis_2004", "shift_jisx0213",
    "iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3",
    "iso2022_jp_ext",
}  # fmt: skip
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")
csv.field_size_limit(1 << 24)


def detect_encoding(path: Path) -> str:
    """The encoding of an uploaded CSV whose officer chose "Detect automatically".

    Chinese government files are UTF-8 (with or without BOM) or GBK/GB18030 in practice, so
    those are tried first, strictly; charset-normalizer only decides beyond them, because on a
    few hundred bytes of Chinese it is often wrong (cp949, big5, even utf_16_be) and a wrong
    guess publishes mojibake with no rejection at all."""
    with open(path, "rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample:
        raise SourceFormatError(gettext_noop("The file is empty (0 bytes)."), {})
    whole = len(sample) < SAMPLE_BYTES  # else the sample may end inside a character
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decode(sample, "utf-8", final=whole) is not None:
        return "utf-8"
    as_gb = _decode(sample, "gb18030", final=whole)
    if as_gb is not None and looks_chinese(as_gb):
        return "gb18030"
    best = from_bytes(sample[:200_000]).best()
    if best is None:
        raise SourceFormatError(
            gettext_noop("Cannot detect the file's character encoding; choose it explicitly."), {}
        )
    name = _codec_name(best.encoding)
    if name in _CHINESE_LEGACY:
        return "gb18030"  # a GBK file that fails to decode: the reader then names the line
    if name in _OTHER_CJK:
        raise SourceFormatError(
            gettext_noop(
                "Cannot tell the file's character encoding for sure (it looks like %(enc)s, "
                "which is not read automatically); save the file as UTF-8, or choose "
                "GBK / GB18030 if it is one."
            ),
            {"enc": best.encoding},
        )
    return best.encoding


def looks_chinese(text: str) -> bool:
    """Whether text decoded as GB18030 reads as Chinese rather than as another encoding's bytes
    seen through GBK: mostly the 6,763 common characters of GB2312, hardly any private-use ones.
    Korean EUC-KR passes too (its syllables sit where GB2312 has its characters); Big5,
    Shift-JIS and Latin-1 land in GBK's rare-character and user-defined areas and fail. A few
    rare or user-defined characters (names) do not make a Chinese file fail."""
    wide = _ASCII_RUNS.sub("", text)
    if not wide:
        return True
    common = len(wide.encode("gb2312", errors="ignore")) // 2
    private = sum(1 for ch in wide if "\ue000" <= ch <= "\uf8ff")
    return common * 2 >= len(wide) and private * 20 <= len(wide)


def _decode(sample: bytes, encoding: str, *, final: bool) -> str | None:
    """The sample decoded strictly, or None. When the sample is a prefix of the file (not
    `final`), a character cut in half at its end is not an error."""
    try:
        return codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=final)
    except UnicodeDecodeError:
        return None


def _codec_name(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding.lower()


@register
class CsvFileConnector(Connector):
    """options: path, encoding (optional override), delimiter (default ','), header_row
    (optional: the header's row number; default the first row that is not blank)."""

    kind = "csv"

    @contextmanager
    def open(self, *, watermark_column=None, since=None) -> Iterator[SourceData]:
        path = Path(self.options["path"])
        if not path.exists():
            raise SourceFormatError(
                gettext_noop("The uploaded file %(name)s is missing."), {"name": path.name}
            )
        header_row = header_row_option(self.options)
        encoding = self.options.get("encoding") or detect_encoding(path)
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise SourceFormatError(
                gettext_noop("Unknown encoding “%(enc)s”."), {"enc": encoding}
            ) from None
        if encoding.lower().replace("-", "") == "utf8":
            encoding = "utf-8-sig"  # tolerate a BOM even when the officer chose UTF-8
        delimiter = self.options.get("delimiter", ",")
        with open(path, encoding=encoding, newline="", errors="strict") as fh:
            reader = csv.reader(fh, delimiter=delimiter, strict=True)
            # Rows are numbered as records of the file (a quoted value over two lines is one).
            records = enumerate(reader, start=1)
            number = 0
            try:
                header, number = _header(records, header_row)
                following = []
                for number, row in records:  # noqa: B007 - used in the handler
                    if row:
                        following.append((number, row))
                        if len(following) == PEEK_ROWS:
                            break
            except (UnicodeDecodeError, csv.Error) as exc:
                raise _format_error(exc, number + 1, encoding, path) from None
            size = max(1, path.stat().st_size)
            yield SourceData(
                columns=Columns(header, following=following, delimiter=delimiter),
                rows=_rows(following, records, number, encoding, path),
                progress=lambda: fh.buffer.tell() / size,
            )


def _header(records, header_row: int | None) -> tuple[list[str], int]:
    """(the header, its row number). Without "header_row", blank rows before it are skipped:
    a blank first line is no header, and a file of blank lines has none."""
    seen = False
    for number, row in records:
        seen = True
        if header_row is None and any(v.strip(_STRIP) for v in row):
            return row, number
        if number == header_row:
            return row, number
    if header_row is not None and seen:
        raise no_header_row_error(header_row)
    if seen:
        raise SourceFormatError(
            gettext_noop("The file has no header row: it holds only blank lines."), {}
        )
    raise SourceFormatError(gettext_noop("The file is empty."), {})


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
            gettext_noop(
                "Line %(row)d cannot be decoded as %(enc)s; choose the file's real encoding."
            ),
            {"row": _first_bad_line(path, encoding) or row, "enc": encoding},
        )
    return SourceFormatError(
        gettext_noop("Row %(row)d is not valid CSV (%(error)s), e.g. an unclosed quote."),
        {"row": row, "error": str(exc)},
    )


def _rows(following, records, number: int, encoding: str, path: Path):
    yield from following
    row_number = number
    try:
        for row_number, row in records:  # noqa: B007 - used in the handler
            if row:
                yield row_number, row
    except (UnicodeDecodeError, csv.Error) as exc:
        raise _format_error(exc, row_number + 1, encoding, path) from None
