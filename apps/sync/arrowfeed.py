"""What the Arrow fast path reads: the uploaded CSV as UTF-8, decoded exactly as the CSV connector
(govdata/connectors/csvfile.py) decodes it, and checked on the way for anything Arrow's CSV parser
and Python's csv module (strict) could read differently.

`open_reader` returns a streaming `pyarrow.csv` reader over a `Feed`, every column as text, or
None when the file cannot take the fast path at all. The feed raises `Unsafe` (and remembers why)
as soon as it sees a shape the two parsers could disagree on: a quote that is not around a whole
field, an unclosed quote, a NUL byte, or a line longer than Python's csv field size limit. Arrow
itself refuses rows of another width than the header and invalid UTF-8. A blank line (a skipped
row to Python, a row of empty values to Arrow) is found by the caller in the batches: a row whose
values are all empty. In each of those cases the caller goes back to the Python path, which then
reads (or rejects) the file as always.

The checks cost a few memchr-speed scans per chunk when the file has no quotes; they run in
Arrow's reading thread under the GIL, so they are kept that cheap.
"""

from __future__ import annotations

import codecs
import csv
import re
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from govdata.connectors.csvfile import detect_encoding

BLOCK_BYTES = 1 << 20  # Arrow parses the file in blocks of this size: bounds the worker's memory
AHEAD_BLOCKS = 4  # how far Arrow's read-ahead may run past the batches taken (else: whole file)
READ_BYTES = 1 << 20
FIELD_LIMIT = csv.field_size_limit()  # as set by the CSV connector (imported above)
MAX_PENDING_CHECK = 64 << 20  # an unclosed quote this long: let the Python path report it


class Unsafe(Exception):
    """Arrow may read the file differently from Python's csv module: use the Python path."""


class ShapeCheck:
    """Finds CSV that Arrow and Python's csv module (strict) could read differently. Works on
    whole lines cut where the count of quotes so far is even (outside any quoted field)."""

    def __init__(self, delimiter: str, text: bool) -> None:
        conv = (lambda s: s) if text else (lambda s: s.encode("ascii"))
        d = re.escape(delimiter)
        self.quote, self.nl, self.marker = conv('"'), conv("\n"), conv("\x01")
        self.nul = conv("\x00")
        self.token = re.compile(conv(r'"(?:[^"]|"")*"'))
        self.after = re.compile(conv(rf"\x01[^{d}\r\n]"))
        self.pending = conv("")

    def feed(self, chunk, final: bool = False) -> None:
        if self.nul in chunk:
            raise Unsafe("NUL character")
        data = self.pending + chunk if self.pending else chunk
        if self.quote not in data:  # the common case: nothing to check, keep the last line
            cut = data.rfind(self.nl) + 1
            self.pending = data[:0] if final else data[cut:]
            return
        if final:
            self.pending = data[:0]
            self._check(data, final=True)
            return
        cut = data.rfind(self.nl) + 1
        while cut and data.count(self.quote, 0, cut) % 2:
            cut = data.rfind(self.nl, 0, cut - 1) + 1
        if not cut:
            if len(data) > MAX_PENDING_CHECK:
                raise Unsafe("quoted field too long")
            self.pending = data
            return
        self.pending = data[cut:]
        self._check(data[:cut])

    def _check(self, part, final: bool = False) -> None:
        # `part` starts at the start of the file or right after a line feed
        if self.quote in part:
            part = self.token.sub(self.marker, part)
            if self.quote in part:
                raise Unsafe("quote inside an unquoted field, or an unclosed quote")
            # every quoted field must be a whole field: delimiter, line end or edge on both sides
            if self.after.search(part) or self.after.search(part[::-1]):
                raise Unsafe("text before or after a quoted field")


class Feed:
    """A read-only binary stream for Arrow: the file as UTF-8 (decoded by Python's codec unless
    it is UTF-8 already), shape-checked on the way. Reads return whole requested sizes until the
    end of the file."""

    def __init__(self, path: Path, encoding: str | None, delimiter: str, skip_bom: bool) -> None:
        self.fh = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.size = max(1, path.stat().st_size)
        if skip_bom and self.fh.read(3) != codecs.BOM_UTF8:
            self.fh.seek(0)
        self.decoder = codecs.getincrementaldecoder(encoding)("strict") if encoding else None
        self.check = ShapeCheck(delimiter, text=self.decoder is not None)
        self.line_bytes = 0  # bytes since the last line break (Python's csv field size limit)
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.done = False
        self.unsafe: str | None = None
        self.closed = False
        self.lock = threading.Lock()  # Arrow reads ahead in its own threads
        self.more = threading.Condition(self.lock)
        self.given = 0  # bytes handed to Arrow
        self.limit = AHEAD_BLOCKS * BLOCK_BYTES

    # -- the file-object protocol Arrow uses --
    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.fh.close()
            self.more.notify_all()

    def taken(self, batches: int) -> None:
        """The consumer has taken this many batches (about one block each): read on."""
        with self.lock:
            self.limit = (batches + AHEAD_BLOCKS) * BLOCK_BYTES
            self.more.notify_all()

    def read(self, size: int = -1) -> bytes:
        with self.lock:
            # wait for the consumer (the timeout only guards against a stall: it reads on)
            self.more.wait_for(lambda: self.closed or self.given < self.limit, timeout=2)
            if self.closed:
                return b""
            out = self._read(size)
            self.given += len(out)
            return out

    def _read(self, size: int) -> bytes:
        try:
            while not self.done and (size < 0 or self.buffered < size):
                chunk = self._next()
                self.chunks.append(chunk)
                self.buffered += len(chunk)
        except Unsafe as exc:
            self.unsafe = str(exc)
            raise
        except UnicodeDecodeError as exc:
            self.unsafe = f"cannot decode: {exc}"
            raise Unsafe(self.unsafe) from None
        data = b"".join(self.chunks) if len(self.chunks) != 1 else self.chunks[0]
        if 0 <= size < len(data):
            data, rest = data[:size], data[size:]
            self.chunks, self.buffered = [rest], len(rest)
        else:
            self.chunks, self.buffered = [], 0
        return data

    def progress(self) -> float:
        return 1.0 if self.closed else self.fh.tell() / self.size

    def _next(self) -> bytes:
        chunk = self.fh.read(READ_BYTES)
        final = not chunk
        self.done = final
        # Python's csv refuses a field over csv.field_size_limit() characters; Arrow does not.
        # A line that long (in bytes, so at least as long in characters) goes to Python.
        first, last = chunk.find(b"\n"), chunk.rfind(b"\n")
        if first < 0:
            self.line_bytes += len(chunk)
        else:
            if self.line_bytes + first > FIELD_LIMIT:
                raise Unsafe("a line longer than the csv field size limit")
            self.line_bytes = len(chunk) - last - 1
        if self.line_bytes > FIELD_LIMIT:
            raise Unsafe("a line longer than the csv field size limit")
        if self.decoder is not None:
            text = self.decoder.decode(chunk, final=final)
            self.check.feed(text, final)
            return text.encode("utf-8")
        self.check.feed(chunk, final)
        return chunk

    def drain(self) -> str | None:
        """Check the rest of the file (after an early stop): why it is unsafe, or None."""
        if self.unsafe is None:
            self.limit = 1 << 62
            try:
                while not self.done and not self.closed:
                    self.read(READ_BYTES)
            except Unsafe:
                pass
        return self.unsafe


def _encoding(options: dict, path: Path) -> tuple[str | None, bool] | None:
    """(Python codec to transcode with, or None for UTF-8 as it is; skip a leading BOM), or None
    when the connector would refuse the encoding (the Python path then says why)."""
    encoding = options.get("encoding") or detect_encoding(path)
    if encoding.lower().replace("-", "") == "utf8":
        encoding = "utf-8-sig"  # the connector's rule
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    if name == "utf-8-sig":
        return None, True
    if name == "utf-8":
        return None, False
    return encoding, False


def open_reader(options: dict, width: int) -> tuple[pacsv.CSVStreamingReader, Feed] | None:
    """A streaming reader over the file, header included as the first row, every value as a
    non-null string (columns f0, f1, ...). None when the fast path cannot read this file."""
    path = Path(options["path"])
    delimiter = options.get("delimiter", ",")
    if len(delimiter) != 1 or not delimiter.isascii() or delimiter in '"\r\n\x00\x01':
        return None
    found = _encoding(options, path)
    if found is None:
        return None
    feed = Feed(path, found[0], delimiter, skip_bom=found[1])
    names = [f"f{i}" for i in range(width)]
    try:
        reader = pacsv.open_csv(
            feed,
            read_options=pacsv.ReadOptions(
                column_names=names, block_size=BLOCK_BYTES, use_threads=True
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowException, Unsafe, OSError):
        feed.close()
        return None
    return reader, feed
