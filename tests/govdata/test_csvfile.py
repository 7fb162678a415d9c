"""The CSV connector: which encoding "Detect automatically" picks, and that rows come out as the
officer wrote them. Chinese government files are UTF-8 or GBK/GB18030; a short GBK file must
never be read through another East-Asian code page (exploratory finding F4)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.utils import translation

from govdata.connectors.base import SourceFormatError
from govdata.connectors.csvfile import SAMPLE_BYTES, CsvFileConnector, detect_encoding

# Short names and addresses, as in a small test upload. On most of these charset-normalizer's
# best guess for the GBK bytes is not Chinese at all: cp949 (Korean) for "sfz,xm ... 张三1" and
# "李四,北京市朝阳区", utf_16_be for "黄丽,汕头市".
GBK_SAMPLES = [
    "张三1,广州市天河区\n",
    "sfz,xm\n440106199001010013,张三1\n440106199001010021,张三2\n44010619900101003X,张三3\n",
    "李四,北京市朝阳区\n",
    "黄丽,汕头市\n",
    "王五,深圳市福田区福华路\n",
    "姓名,地址\n赵六,珠海市香洲区\n",
    "陈小明,广东省佛山市南海区桂城街道\n",
    "李喆,深圳市南山区\n",  # 喆 is outside GB2312: a rare name character is still Chinese
    "王喆\n",
]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _file(tmp_path: Path, data: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _read(path: Path, **options) -> tuple[list[str], list[list[str]]]:
    connector = CsvFileConnector(options={"path": str(path), **options}, secrets={})
    with connector.open() as data:
        return data.columns, [list(row) for _number, row in data.rows]


@pytest.mark.parametrize("text", GBK_SAMPLES)
def test_short_gbk_files_are_detected_as_gb18030(tmp_path, text):
    path = _file(tmp_path, text.encode("gbk"))
    assert detect_encoding(path) == "gb18030"
    assert path.read_bytes().decode(detect_encoding(path)) == text


def test_gbk_rows_come_out_as_written(tmp_path):
    text = GBK_SAMPLES[1]
    columns, rows = _read(_file(tmp_path, text.encode("gbk")))
    assert columns == ["sfz", "xm"]
    assert rows == [line.split(",") for line in text.splitlines()[1:]]


def test_gb18030_only_characters_are_detected(tmp_path):
    # 𠮷 (U+20BB7) has no GBK code: GB18030 writes it in four bytes.
    text = "xm,dz\n𠮷田,广州市越秀区\n张三,广州市天河区\n"
    path = _file(tmp_path, text.encode("gb18030"))
    assert detect_encoding(path) == "gb18030"
    assert _read(path)[1] == [["𠮷田", "广州市越秀区"], ["张三", "广州市天河区"]]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("张三1,广州市天河区\n".encode(), "utf-8"),
        ("张三1,广州市天河区\n".encode("utf-8-sig"), "utf-8-sig"),
        (b"id,name\n1,abc\n", "utf-8"),
    ],
)
def test_utf8_with_and_without_bom(tmp_path, data, expected):
    assert detect_encoding(_file(tmp_path, data)) == expected


@pytest.mark.parametrize(("encoding", "width"), [("utf-8", 3), ("gbk", 2)])
def test_a_sample_ending_inside_a_character_is_not_an_error(tmp_path, encoding, width):
    """Only the first SAMPLE_BYTES are looked at; the cut may fall inside a character."""
    line = "张三,广州市天河区\n".encode(encoding)
    body = b"a" * (SAMPLE_BYTES - 3 - len(line) * 10)  # ASCII up to 1 byte before the cut
    data = b"x\n" + line * 10 + body + "张".encode(encoding) * 4
    assert len(data[:SAMPLE_BYTES]) == SAMPLE_BYTES
    assert data[SAMPLE_BYTES - 1 : SAMPLE_BYTES + width - 1] == "张".encode(encoding)
    expected = "utf-8" if encoding == "utf-8" else "gb18030"
    assert detect_encoding(_file(tmp_path, data)) == expected


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("姓名,地址\n山田太郎,東京都新宿区西新宿\n佐藤花子,大阪府大阪市北区\n", "shift_jis"),
        ("姓名,地址\n陳大文,香港九龍旺角彌敦道\n林美玲,台北市信義區市府路\n", "big5"),
    ],
)
def test_other_east_asian_code_pages_are_refused_not_guessed(tmp_path, text, encoding):
    path = _file(tmp_path, text.encode(encoding))
    with pytest.raises(SourceFormatError, match="choose"):
        detect_encoding(path)


def test_the_officers_choice_overrides_detection(tmp_path):
    text = GBK_SAMPLES[1]
    path = _file(tmp_path, text.encode("gbk"))
    assert _read(path, encoding="gb18030")[1][0] == ["440106199001010013", "张三1"]
    with pytest.raises(SourceFormatError, match="Line 2 .*utf-8"):
        _read(path, encoding="utf-8")


def test_utf8_chosen_for_a_file_with_a_bom_drops_the_bom(tmp_path):
    path = _file(tmp_path, "sfz,xm\n1,张三\n".encode("utf-8-sig"))
    assert _read(path, encoding="utf-8") == (["sfz", "xm"], [["1", "张三"]])


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(SourceFormatError, match="empty"):
        detect_encoding(_file(tmp_path, b""))


def _numbered(path: Path, **options) -> tuple[list[str], list[tuple[int, list[str]]]]:
    connector = CsvFileConnector(options={"path": str(path), **options}, secrets={})
    with connector.open() as data:
        return data.columns, [(number, list(row)) for number, row in data.rows]


@pytest.mark.parametrize("data", [b"\n\n\n", b"\r\n,,\r\n \r\n"])
def test_a_file_of_blank_lines_has_no_header_row(tmp_path, data):
    with pytest.raises(SourceFormatError, match="no header row"):
        _read(_file(tmp_path, data), encoding="utf-8")


def test_blank_lines_above_the_header_are_skipped_and_rows_keep_their_numbers(tmp_path):
    path = _file(tmp_path, b"\n\nsfz,xm\n1,a\n\n2,b\n")
    assert _numbered(path) == (["sfz", "xm"], [(4, ["1", "a"]), (6, ["2", "b"])])


def test_header_row_names_the_header_below_a_title(tmp_path):
    path = _file(tmp_path, "人口基本信息,,\nsfz,xm\n1,a\n".encode())
    assert _numbered(path, header_row=2) == (["sfz", "xm"], [(3, ["1", "a"])])
    with pytest.raises(SourceFormatError, match="no row 5"):
        _numbered(path, header_row=5)


def test_the_columns_carry_the_delimiter_and_the_first_rows_for_the_validators_hints(tmp_path):
    lines = [f"{i},x{i}" for i in range(15)]
    path = _file(tmp_path, ("title\nsfz,xm\n" + "\n".join(lines) + "\n").encode())
    connector = CsvFileConnector(options={"path": str(path), "delimiter": ","}, secrets={})
    with connector.open() as data:
        assert data.columns == ["title"] and data.columns.delimiter == ","
        assert data.columns.following[0] == (2, ["sfz", "xm"])
        assert len(data.columns.following) == 10
        assert len(list(data.rows)) == 16  # the rows looked at first are read all the same
