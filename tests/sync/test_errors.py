"""apps.sync.errors: a run's error stored as message id and parameters, read in the reader's
language, without what it quotes of the source for readers who may not read the quarantine."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from apps.common.texts import Text
from apps.sync import engine
from apps.sync.errors import (
    MessageCatalogue,
    error_for_reader,
    error_text,
    withhold_source_text,
)
from apps.sync.models import SyncRun
from apps.sync.runstate import SyncFailed
from apps.sync.services import sync_upload_store
from govdata.connectors import SourceFormatError, connector_for
from govdata.connectors.sql import build_query
from govdata.validation import FieldError, FieldSpec, field_validator
from tests.sync.helpers import COLUMNS, population_rows, write_csv

GOVDATA = Path(django_settings.BASE_DIR) / "govdata"
MISSING_KEY = "the key column “%(key)s” is missing from the source (columns: %(cols)s)"
NOT_CSV = "Row %(row)d is not valid CSV (%(error)s), e.g. an unclosed quote."


@pytest.fixture(autouse=True)
def _own_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _govdata_messages_rendered_where_raised() -> set[str]:
    """Messages of govdata's sync side rendered with their parameters where they are raised,
    `_("...") % {...}`: their message id and parameters would be lost to the run's error."""
    found = set()
    files = [*GOVDATA.joinpath("connectors").glob("*.py"), GOVDATA / "rows.py"]
    for path in [*files, GOVDATA / "validation.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"_", "gettext"}
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
                and "%(" in node.args[0].value
            ):
                found.add(node.args[0].value)
    return found


def test_govdata_raises_every_message_with_parameters_as_its_msgid_and_parameters():
    """Raise it as `Error(gettext_noop("..."), {...})` (govdata.messages.MessageMixin)."""
    assert _govdata_messages_rendered_where_raised() == set()


def _raised(call) -> Exception:
    with pytest.raises(Exception) as raised:  # noqa: PT011 - each case names its own error
        call()
    return raised.value


def _open(kind: str, **options):
    def call():
        with connector_for(kind, options=options, secrets={}).open():
            pass

    return call


def _file(tmp_path: Path, data: bytes) -> str:
    path = tmp_path / "a.csv"
    path.write_bytes(data)
    return str(path)


def _xlsx_without_workbook(tmp_path: Path) -> Path:
    import zipfile

    path = tmp_path / "broken.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return path


@pytest.mark.parametrize(
    ("make_call", "msgid", "params"),
    [
        (
            lambda tmp: _open("csv", path=str(write_csv(tmp / "a.csv", [])), encoding="nope-8"),
            "Unknown encoding “%(enc)s”.",
            {"enc": "nope-8"},
        ),
        (
            lambda tmp: _open("csv", path=str(tmp / "gone.csv")),
            "The uploaded file %(name)s is missing.",
            {"name": "gone.csv"},
        ),
        (
            lambda tmp: _open("csv", path=_file(tmp, b"a,b\n\xff\xfe,1\n"), encoding="gb18030"),
            "Line %(row)d cannot be decoded as %(enc)s; choose the file's real encoding.",
            {"row": 2, "enc": "gb18030"},
        ),
        (
            lambda tmp: _open("xlsx", path=str(_xlsx_without_workbook(tmp))),
            "The file is not a readable .xlsx workbook (%(error)s).",
            None,  # the library's own words
        ),
        (
            lambda tmp: lambda: build_query({"table": "people; DROP"}, '"', None, None),
            "“%(name)s” is not a valid table or column name.",
            {"name": "people; DROP"},
        ),
        (
            lambda tmp: (
                lambda: field_validator(FieldSpec("g", "enum", enum_values=("男", "女")))("M")
            ),
            "not one of the allowed values (%(values)s)",
            {"values": "男, 女"},
        ),
    ],
)
def test_a_govdata_error_names_its_msgid_and_parameters(tmp_path, make_call, msgid, params):
    exc = _raised(make_call(tmp_path))
    assert isinstance(exc, (SourceFormatError, FieldError))
    text = error_text(exc)
    assert text.msgid == msgid
    if params is not None:
        assert text.params == params
    assert json.loads(json.dumps(text.to_json())) == text.to_json()  # storable as it is
    with translation.override(None):  # the quarantine's reasons: rendered untranslated
        assert str(exc) == msgid % text.params


# The patterns that find a rendered message's id back are still used for quarantine reasons,
# which are stored as text (apps.sync.labels.rejection_reason).
@pytest.mark.parametrize(
    ("msgid", "message", "params"),
    [
        (MISSING_KEY, MISSING_KEY % {"key": "id", "cols": "a, b"}, {"key": "id", "cols": "a, b"}),
        ("Line %(row)d is %(enc)s.", "Line 12 is gbk.", {"row": 12, "enc": "gbk"}),
        ("%(share).1f%% of %(n)d", "12.5% of 8", {"share": 12.5, "n": 8}),
        ("%(a)s and %(a)s again", "x and x again", {"a": "x"}),
    ],
)
def test_a_rendered_message_gives_back_its_id_and_typed_parameters(msgid, message, params):
    assert MessageCatalogue([msgid]).text(message) == Text(msgid, params)


def test_a_message_the_catalogue_does_not_know_is_kept_whole():
    assert MessageCatalogue([MISSING_KEY]).text("something 50% odd") == Text("something 50% odd")
    assert str(Text("something 50% odd")) == "something 50% odd"


def test_an_exception_carrying_its_text_or_msgid_is_taken_at_its_word():
    text = Text("Row %(row)d could not be read.", {"row": 3})
    assert error_text(SyncFailed(text)) == text
    exc = SourceFormatError("rendered")
    exc.msgid, exc.params = "The worksheet is empty.", {}
    assert error_text(exc) == Text("The worksheet is empty.")


def test_an_exception_without_a_msgid_is_kept_as_it_reads():
    """A source system's or a library's own text (a dropped connection), in no catalogue."""
    assert error_text(SourceFormatError("server closed the connection")) == Text(
        "server closed the connection"
    )


def test_source_text_is_withheld_and_the_rest_kept():
    text = Text("The source query failed: %(e)s", {"e": 'invalid input "440106199001010005"'})
    with translation.override("en"):
        shown = str(withhold_source_text(text))
    assert "440106" not in shown and shown.startswith("The source query failed: [not shown")
    kept = Text("Line %(row)d cannot be decoded as %(enc)s; choose the file's real encoding.")
    assert withhold_source_text(Text(kept.msgid, {"row": 2, "enc": "gbk"})).params == {
        "row": 2,
        "enc": "gbk",
    }


def test_a_run_stored_before_error_texts_shows_its_stored_error():
    stored = "数据源中有重复主键：第 2, 22 行。未发布任何数据。"
    for allowed in (True, False):
        assert error_for_reader(error_text=None, error=stored, source_text_allowed=allowed) == (
            stored
        )


@pytest.mark.django_db
def test_a_govdata_error_is_stored_as_message_and_parameters_and_read_in_each_language(
    world, tmp_path, settings
):
    """Exploratory finding P8: the error was stored rendered in the platform's language."""
    settings.LANGUAGE_CODE = "zh-hans"
    data = write_csv(tmp_path / "a.csv", population_rows(3), columns=COLUMNS[1:]).read_bytes()
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("a.csv", data), enqueue=False
    )
    with translation.override("en"):  # executed in a request of an English reader
        run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.FAILED
    assert run.error_text == [MISSING_KEY, {"key": "id_number", "cols": ", ".join(COLUMNS[1:])}]
    assert "缺少主键列" in run.error  # the audit log's language: the platform's
    read = {"error_text": run.error_text, "error": run.error, "source_text_allowed": True}
    with translation.override("en"):
        assert error_for_reader(**read).startswith("the key column “id_number” is missing")
    with translation.override("zh-hans"):
        assert error_for_reader(**read).startswith("数据源缺少主键列“id_number”")


@pytest.mark.django_db
def test_the_platforms_own_failure_is_read_in_each_language(world, tmp_path):
    rows = [{**row, "mobile": "999"} for row in population_rows(4)]
    data = write_csv(tmp_path / "a.csv", rows).read_bytes()
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("a.csv", data), enqueue=False
    )
    run = engine.run_execute(run_id=run.pk)
    read = {"error_text": run.error_text, "error": run.error, "source_text_allowed": False}
    with translation.override("en"):
        assert error_for_reader(**read).startswith("4 of 4 rows (100.0%) failed validation")
    with translation.override("zh-hans"):
        assert error_for_reader(**read).startswith("4 行中有 4 行（100.0%）未通过校验")


@pytest.mark.django_db
def test_a_govdata_error_raised_in_a_run_is_read_in_chinese_with_its_parameters(
    world, tmp_path, settings
):
    """The file's third record opens a quote it never closes: the connector's error, raised in
    a real run executed in an English request, reads in Chinese with its row and the library's
    words, which only those who may read the quarantine see."""
    settings.LANGUAGE_CODE = "zh-hans"
    data = (
        write_csv(tmp_path / "a.csv", population_rows(3)).read_bytes() + b'"440106,\xe5\xbc\xa0\n'
    )
    run = sync_upload_store(
        dataset=world.dataset, upload=SimpleUploadedFile("a.csv", data), enqueue=False
    )
    with translation.override("en"):
        run = engine.run_execute(run_id=run.pk)
    assert run.status == SyncRun.Status.FAILED
    msgid, params = run.error_text
    assert msgid == NOT_CSV and params["row"] == 5 and params["error"]
    assert run.error == f"第 5 行不是有效的 CSV（{params['error']}），例如引号未闭合。"
    read = {"error_text": run.error_text, "error": run.error}
    with translation.override("zh-hans"):
        assert error_for_reader(**read, source_text_allowed=True) == run.error
        assert error_for_reader(**read, source_text_allowed=False) == (
            "第 5 行不是有效的 CSV（［不予显示：可能引用数据源中的数据］），例如引号未闭合。"
        )
    with translation.override("en"):
        assert error_for_reader(**read, source_text_allowed=True) == NOT_CSV % params
