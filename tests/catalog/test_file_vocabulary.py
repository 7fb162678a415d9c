"""One vocabulary for the list file and the forms: an export writes the forms' labels in the
headers' language (Chinese), an import reads those labels, the English ones and the codes, in
every coded column; an unchanged export imports as a no-op."""

from __future__ import annotations

import io

import pytest
from django.utils import translation
from openpyxl import load_workbook

from apps.catalog import services
from apps.catalog.exports import export_csv, export_xlsx
from apps.catalog.labels import CODED_CHOICES
from apps.catalog.models import Dataset, DatasetVersion
from apps.catalog.selectors import published_snapshots
from govdata.masking import MASKING_RULES
from govdata.responsibility_list import CODED_COLUMNS, ResponsibilityListError
from govdata.vocabulary import DataType, Sensitivity, UpdateFrequency
from tests.catalog.conftest import LEGAL, stored_list
from tests.catalog.sheets import dataset_row, xlsx

pytestmark = pytest.mark.django_db


def _import(world, data, filename="list.xlsx", **kwargs):
    return services.catalog_import(
        department=world.provider, file=data, filename=filename, by=world.provider_officer,
        **kwargs,
    )  # fmt: skip


def _field(name, data_type, sensitivity, sharing, masking, required, enum=""):
    legal = LEGAL if sharing not in ("unconditional", "无条件共享", "Unconditional") else ""
    return ["GA-HJ-010", name, f"信息项{name}", data_type, sensitivity, sharing, "", legal,
            masking, required, enum, ""]  # fmt: skip


def test_the_testers_row_written_in_the_forms_chinese_words_imports(world):
    """文本, 内部, 有条件共享, 不脱敏, 否: the words every form shows (F6)."""
    id_mask = "身份证号（保留前6位和后4位）"
    rows = [_field("id_number", "公民身份号码", "敏感", "有条件共享", id_mask, "是"),
            _field("extra", "文本", "内部", "有条件共享", "不脱敏", "否")]  # fmt: skip
    row = dataset_row()
    row[5] = "每日"
    _import(world, xlsx([row], rows))
    extra = Dataset.objects.get(code="GA-HJ-010").fields.get(name="extra")
    assert (extra.data_type, extra.sensitivity, extra.sharing_type, extra.masking,
            extra.required) == ("string", "internal", "conditional", "none", False)  # fmt: skip
    id_number = Dataset.objects.get(code="GA-HJ-010").fields.get(name="id_number")
    assert (id_number.data_type, id_number.masking, id_number.required) == (
        "id_card", "id_card", True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("frequency", "row"),
    [
        ("Weekly", _field("id_number", "Resident ID number", "Sensitive", "Conditional",
                          "ID card number (first 6 and last 4 digits kept)", "Yes")),
        ("weekly", _field("id_number", "ID_CARD", "sensitive", "conditional", "id_card", "true")),
        ("每周", _field("id_number", "公民身份号码", "敏感", "有条件共享", "身份证号", "必填")),
        ("WEEKLY", _field("id_number", "resident id number", "SENSITIVE",
                          "Conditional (有条件共享)", "ID card number", "1")),
    ],
    ids=["english-labels", "codes", "chinese-labels", "any-case-and-short-labels"],
)  # fmt: skip
def test_every_coded_column_reads_labels_in_both_languages_and_codes(world, frequency, row):
    dataset = dataset_row(key="id_number")
    dataset[5] = frequency
    _import(world, xlsx([dataset], [row]))
    stored = Dataset.objects.get(code="GA-HJ-010")
    field = stored.fields.get()
    assert stored.update_frequency == "weekly"
    assert (field.data_type, field.sensitivity, field.sharing_type, field.masking,
            field.required) == ("id_card", "sensitive", "conditional", "id_card", True)  # fmt: skip


def test_an_unknown_word_is_refused_with_the_forms_words_to_use(world):
    rows = [_field("id_number", "身份证", "内部", "有条件共享", "打码", "是")]
    with pytest.raises(ResponsibilityListError) as exc:
        _import(world, xlsx([dataset_row()], rows))
    by_column = {e.column: e for e in exc.value.errors}
    assert set(by_column) == {"D", "I"}
    with translation.override("en"):
        from apps.catalog.imports import error_message

        assert "文本" in error_message(by_column["D"])  # the labels, as the export writes them
        assert "不脱敏" in error_message(by_column["I"])


def test_the_vocabulary_covers_every_coded_column():
    assert set(CODED_CHOICES) == set(CODED_COLUMNS)


# Every value of every coded column, published, exported and imported back.

_EVERY = [
    # name, data type, sensitivity, sharing type, masking, required, allowed values
    ("id_number", "id_card", "highly_sensitive", "conditional", "id_card", True, []),
    ("name", "string", "sensitive", "conditional", "name", False, []),
    ("mobile", "mobile", "sensitive", "conditional", "mobile", False, []),
    ("address", "string", "internal", "conditional", "address", False, []),
    ("bank", "string", "sensitive", "conditional", "bank_card", False, []),
    ("hashed", "string", "internal", "conditional", "hash", False, []),
    ("born", "date", "internal", "conditional", "year_only", False, []),
    ("secret", "string", "highly_sensitive", "none", "redact", False, []),
    ("count", "integer", "public", "unconditional", "none", False, []),
    ("amount", "decimal", "public", "unconditional", "none", False, []),
    ("flag", "boolean", "public", "unconditional", "none", False, []),
    ("at", "datetime", "public", "unconditional", "none", False, []),
    ("credit", "credit_code", "public", "unconditional", "none", False, []),
    ("gender", "enum", "public", "unconditional", "none", True, ["男", "女"]),
]


@pytest.fixture
def every_value(world):
    """Datasets of every update frequency; fields of every data type, sensitivity, sharing
    type and mask; required and not; published."""
    assert {f[1] for f in _EVERY} == {t.value for t in DataType}
    assert {f[2] for f in _EVERY} == {s.value for s in Sensitivity}
    assert {f[4] for f in _EVERY} == set(MASKING_RULES)
    codes = []
    for n, frequency in enumerate(UpdateFrequency):
        dataset = services.dataset_create(
            by=world.provider_officer, provider=world.provider, code=f"GA-ALL-{n}",
            name=f"全部取值{n}", key_field="id_number", sharing_type="conditional",
            legal_basis=LEGAL, update_frequency=frequency.value, summary="第一行\n第二行",
        )  # fmt: skip
        for name, data_type, sensitivity, sharing, masking, required, enum in _EVERY:
            services.field_create(
                dataset=dataset, by=world.provider_officer, name=name, label=f"标签{name}",
                data_type=data_type, sensitivity=sensitivity, sharing_type=sharing,
                masking=masking, required=required, enum_values=enum,
                legal_basis="" if sharing == "unconditional" else LEGAL,
            )  # fmt: skip
        services.dataset_publish(dataset=dataset, by=world.provider_officer, reason="首次")
        codes.append(dataset.code)
    return codes


def _cells(data: bytes) -> set[str]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return {
        str(value)
        for sheet in workbook
        for row in sheet.iter_rows(min_row=2, values_only=True)
        for value in row
        if value is not None
    }


def test_the_export_writes_the_forms_chinese_labels_whatever_the_officers_language(
    world, every_value
):
    with translation.override("en"):
        cells = _cells(export_xlsx(published_snapshots(dataset_ids=None)))
    for word in ("每日", "按需", "有条件共享", "不予共享", "无条件共享", "文本", "公民身份号码",
                 "内部", "高度敏感", "不脱敏", "完全隐藏", "是", "否"):  # fmt: skip
        assert word in cells, word
    codes = {"daily", "conditional", "string", "internal", "redact", "id_card", "on_demand"}
    assert not cells & codes


@pytest.mark.parametrize("export", [export_xlsx, export_csv], ids=["xlsx", "csv"])
def test_an_unchanged_export_imports_as_a_no_op(world, every_value, export):
    data = export(published_snapshots(dataset_ids=None))
    before = stored_list()
    updated = list(Dataset.objects.order_by("code").values_list("code", "updated_at"))
    result = _import(world, data, f"list.{export.__name__[7:]}", publish=True, reason="原样导回")
    assert set(result.unchanged) == {*every_value, world.dataset.code}
    assert result.updated == result.created == result.published == []
    assert stored_list() == before
    assert list(Dataset.objects.order_by("code").values_list("code", "updated_at")) == updated
    assert not Dataset.objects.filter(has_unpublished_changes=True).exists()
    assert DatasetVersion.objects.count() == len(every_value)
