"""The fast path's feed: Arrow reads what Python's csv module reads (encodings, BOM, quotes, CRLF)
or the feed says why it may not; Arrow's read-ahead stays a few blocks ahead."""

from __future__ import annotations

import csv
import io
import time

import pytest

from apps.sync import arrowfeed
from apps.sync.arrowfeed import Feed, Unsafe, open_reader

GOOD = 'id,name,note\r\n1,"张三","a,b"\r\n2,李四,"x\r\n""y"""\n3,,""\n'


def _arrow_rows(path, **options) -> list[list[str]]:
    reader, feed = open_reader({"path": str(path), **options}, 3)
    try:
        return [list(r.values()) for r in reader.read_all().to_pylist()]
    finally:
        feed.close()


def _python_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), strict=True))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_arrow_reads_what_python_reads_in_every_chinese_encoding(tmp_path, encoding):
    path = tmp_path / "f.csv"
    path.write_bytes(GOOD.encode(encoding))
    assert _arrow_rows(path, encoding=encoding) == _python_rows(GOOD)


def test_a_bom_is_skipped_when_the_connector_skips_it(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert _arrow_rows(path)[0] == ["id", "name", "note"]
    assert _arrow_rows(path, encoding="UTF8")[0] == ["id", "name", "note"]


@pytest.mark.parametrize(
    "text",
    [
        "a,b\n1,x\x00y\n",
        'a,b\n1,x"y\n',
        'a,b\n1,"x"y\n',
        'a,b\n1, "x"\n',
        'a,b\n1,"unclosed\n2,3\n',
    ],
    ids=[
        "nul",
        "quote",
        "after",
        "before",
        "open",
    ],
)
def test_shapes_the_parsers_may_read_differently_are_refused(text):
    check = arrowfeed.ShapeCheck(",", text=False)
    data = text.encode()
    with pytest.raises(Unsafe):
        for i in range(0, len(data), 3):  # in small chunks: a shape across a cut counts too
            check.feed(data[i : i + 3])
        check.feed(b"", final=True)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_arrow_reads_a_blank_line_as_a_row_of_empty_values(tmp_path, eol):
    """Python's csv skips it: the fast path looks for such rows (test_fast_path.py)."""
    path = tmp_path / "f.csv"
    path.write_text(eol.join(["id,name,note", "1,a,b", "", "2,c,d", ""]), newline="")
    assert _arrow_rows(path)[2] == ["", "", ""]
    assert [] in _python_rows(path.read_bytes().decode())


def test_blank_lines_and_quotes_inside_a_quoted_field_are_fine():
    check = arrowfeed.ShapeCheck(",", text=True)
    check.feed('a,b\n1,"x\n\n""y"""\r\n2,""\n')
    check.feed("", final=True)


def test_reads_return_the_size_asked_for_until_the_end(tmp_path):
    path = tmp_path / "f.csv"
    path.write_bytes(GOOD.encode("gbk") * 50)
    feed = Feed(path, "gbk", ",", skip_bom=False)
    sizes = []
    while chunk := feed.read(1000):
        sizes.append(len(chunk))
    assert all(s == 1000 for s in sizes[:-1]) and sizes[-1] <= 1000
    assert sum(sizes) == len((GOOD * 50).encode())


def test_read_ahead_stays_a_few_blocks_ahead_of_the_batches_taken(tmp_path, monkeypatch):
    monkeypatch.setattr(arrowfeed, "BLOCK_BYTES", 1 << 12)
    monkeypatch.setattr(arrowfeed, "READ_BYTES", 1 << 10)
    path = tmp_path / "f.csv"
    path.write_text("a,b,c\n" + "1,2,3\n" * 100_000)
    reader, feed = open_reader({"path": str(path)}, 3)
    try:
        first = reader.read_next_batch()
        time.sleep(0.3)
        assert feed.given <= (arrowfeed.AHEAD_BLOCKS + 2) * arrowfeed.BLOCK_BYTES
        taken, rows = 1, first.num_rows
        while True:
            try:
                rows += reader.read_next_batch().num_rows
            except StopIteration:
                break
            taken += 1
            feed.taken(taken)
        assert rows == 100_001  # the header is the first row
    finally:
        feed.close()


@pytest.mark.parametrize("options", [{"encoding": "no-such-codec"}, {"delimiter": ";;"}])
def test_options_the_connector_refuses_or_arrow_cannot_use_give_no_reader(tmp_path, options):
    path = tmp_path / "f.csv"
    path.write_bytes(GOOD.encode())
    assert open_reader({"path": str(path), **options}, 3) is None
