"""Importing a responsibility list: all of it or nothing, with every problem located."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from apps.catalog import services
from apps.catalog.imports import error_message
from apps.catalog.models import Dataset, DatasetVersion
from govdata.responsibility_list import ResponsibilityListError
from tests.catalog.conftest import stored_list
from tests.catalog.sheets import (
    FD_HEADER,
    dataset_row,
    field_rows,
    good_xlsx,
    xlsx,
)

pytestmark = pytest.mark.django_db


def _import(world, data, filename="list.xlsx", **kwargs):
    return services.catalog_import(
        department=world.provider, file=data, filename=filename, by=world.provider_officer,
        **kwargs,
    )  # fmt: skip


def _rejected(world, data, filename="list.xlsx", **kwargs):
    before = stored_list()
    with pytest.raises(ResponsibilityListError) as exc:
        _import(world, data, filename, **kwargs)
    assert stored_list() == before, "a rejected import must leave the stored list unchanged"
    return exc.value.errors


def test_good_workbook_creates_drafts(world):
    result = _import(world, good_xlsx())
    assert result.created == ["GA-HJ-010"]
    dataset = Dataset.objects.get(code="GA-HJ-010")
    assert dataset.status == "draft" and dataset.provider == world.provider
    assert [f.name for f in dataset.fields.all()] == ["id_number", "district", "gender"]
    gender = dataset.fields.get(name="gender")
    assert gender.enum_values == ["男", "女"] and gender.sharing_type == "unconditional"
    assert dataset.fields.get(name="id_number").required


def test_import_can_publish_with_a_reason(world):
    result = _import(world, good_xlsx(), publish=True, reason="年度清单")
    assert result.published == ["GA-HJ-010"]
    version = DatasetVersion.objects.get(dataset__code="GA-HJ-010")
    assert version.reason == "年度清单" and version.published_by == world.provider_officer


def test_english_sheet_names_and_headers_are_accepted(world):
    ds_header = ["code", "name", "summary", "category", "key_field", "update_frequency",
                 "sharing_type", "conditions", "legal_basis"]  # fmt: skip
    fd_header = ["dataset_code", "name", "label", "data_type", "sensitivity", "sharing_type",
                 "conditions", "legal_basis", "masking", "required", "enum_values",
                 "description"]  # fmt: skip
    data = xlsx([dataset_row()], field_rows(), ds_header, fd_header, ("datasets", "fields"))
    assert _import(world, data).created == ["GA-HJ-010"]


def test_wrong_header_is_reported_with_its_column(world):
    header = list(FD_HEADER)
    header[3] = "类型"
    errors = _rejected(world, xlsx([dataset_row()], field_rows(), fd_header=header))
    assert any(e.sheet == "信息项" and e.row == 1 and e.column == "D" for e in errors)
    assert any("数据类型" in error_message(e) for e in errors)  # the missing column is named


def test_unknown_sharing_type_is_reported_with_sheet_row_and_column(world):
    errors = _rejected(world, xlsx([dataset_row(sharing="部分共享")], field_rows()))
    located = [(e.sheet, e.row, e.column) for e in errors]
    assert ("数据集", 2, "G") in located
    assert "部分共享" in error_message(errors[0])


def test_missing_legal_basis_is_reported(world):
    fields = field_rows()
    fields[0][7] = ""
    errors = _rejected(world, xlsx([dataset_row(legal="")], fields))
    located = {(e.sheet, e.row, e.column) for e in errors}
    assert {("数据集", 2, "I"), ("信息项", 2, "H")} <= located


def test_duplicate_code_is_reported(world):
    errors = _rejected(world, xlsx([dataset_row(), dataset_row()], field_rows()))
    assert [(e.sheet, e.row, e.column) for e in errors] == [("数据集", 3, "A")]


def test_csv_uploaded_as_xlsx_is_a_clear_error(world):
    errors = _rejected(world, "资源代码,资源名称\nGA,x\n".encode("gbk"))
    assert len(errors) == 1 and ".xlsx" in error_message(errors[0])


def test_garbage_zip_uploaded_as_xlsx_is_a_clear_error(world):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    errors = _rejected(world, buffer.getvalue())
    assert len(errors) == 1


def test_csv_not_in_utf8_is_a_clear_error(world):
    errors = _rejected(world, "数据集.资源代码,资源代码\nGA-1,GA-1\n".encode("gbk"), "list.csv")
    assert "UTF-8" in error_message(errors[0])


def test_every_kind_of_bad_field_is_reported_at_once(world):
    fields = field_rows()
    fields[0][8] = "scramble"  # unknown masking
    fields[1][3] = "texte"  # unknown data type ("text" is 文本's English label)
    fields[2][10] = ""  # enum without values
    fields.append(["GA-HJ-010", "religion", "宗教信仰", "string", "", "none", "", "", "redact",
                   "", "", ""])  # fmt: skip
    errors = _rejected(world, xlsx([dataset_row(key="missing")], fields))
    located = {(e.sheet, e.row, e.column) for e in errors}
    assert {("信息项", 2, "I"), ("信息项", 3, "D"), ("信息项", 4, "K"), ("信息项", 5, "H"),
            ("数据集", 2, "E")} <= located  # fmt: skip


def test_field_type_disagreeing_with_its_dataset_is_reported(world):
    errors = _rejected(world, xlsx([dataset_row(sharing="无条件共享", legal="")], field_rows()))
    assert ("信息项", 2, "F") in {(e.sheet, e.row, e.column) for e in errors}


def test_one_bad_dataset_rejects_the_whole_file(world, draft):
    data = xlsx(
        [dataset_row("GA-HJ-010"), dataset_row(world.dataset.code)],
        field_rows("GA-HJ-010") + field_rows(world.dataset.code),
    )
    before = stored_list()
    with pytest.raises(ResponsibilityListError) as exc:
        services.catalog_import(
            department=world.consumer, file=data, filename="x.xlsx", by=world.consumer_officer
        )
    assert stored_list() == before
    assert [(e.sheet, e.row) for e in exc.value.errors] == [("数据集", 3)]
    assert "GA" in error_message(exc.value.errors[0])


def test_importing_for_another_department_is_refused(world):
    with pytest.raises(PermissionDenied):
        services.catalog_import(
            department=world.provider, file=good_xlsx(), filename="x.xlsx",
            by=world.consumer_officer,
        )  # fmt: skip
    assert not Dataset.objects.filter(code="GA-HJ-010").exists()


def test_reimport_updates_and_marks_removed_fields(world):
    _import(world, good_xlsx(), publish=True, reason="首次")
    fields = field_rows()[:2]
    fields[1][2] = "户籍区县"
    result = _import(world, xlsx([dataset_row()], fields), publish=True, reason="去掉性别")
    assert result.updated == ["GA-HJ-010"] and result.published == ["GA-HJ-010"]
    dataset = Dataset.objects.get(code="GA-HJ-010")
    assert dataset.version == 2
    assert [f.name for f in dataset.fields.all()] == ["id_number", "district"]
    assert _import(world, xlsx([dataset_row()], fields)).unchanged == ["GA-HJ-010"]


def test_yaml_list_is_imported(world):
    document = """
datasets:
  - code: GA-HJ-011
    name: 户籍迁移信息
    key_field: id_number
    sharing_type: conditional
    legal_basis: 《政务数据共享条例》
    fields:
      - {name: id_number, label: 公民身份号码, data_type: id_card, sharing_type: conditional,
         legal_basis: 《政务数据共享条例》, masking: id_card, required: true}
      - {name: gender, label: 性别, data_type: enum, sharing_type: unconditional,
         enum_values: [男, 女]}
"""
    assert _import(world, document.encode(), "list.yaml").created == ["GA-HJ-011"]


def test_bad_yaml_is_reported(world):
    errors = _rejected(world, b"datasets: [unclosed", "list.yml")
    assert errors[0].sheet == "yaml"


def test_yaml_errors_name_the_key(world):
    document = b"datasets:\n  - {code: GA-Y-1, name: y, key_field: a, sharing_type: sometimes}\n"
    errors = _rejected(world, document, "list.yaml")
    assert ("datasets", "sharing_type") in {(e.sheet, e.column) for e in errors}


def test_csv_errors_name_the_file_row(world):
    from apps.catalog.exports import export_csv
    from apps.catalog.selectors import published_snapshots

    _import(world, good_xlsx(), publish=True, reason="首次")
    lines = export_csv(published_snapshots(dataset_ids=None)).decode("utf-8-sig").splitlines()
    code_rows = [n for n, line in enumerate(lines, start=1) if line.startswith("GA-HJ-010")]
    broken = "\n".join(lines).replace("有条件共享", "x").replace(",conditional,", ",sometimes,")
    errors = _rejected(world, broken.encode("utf-8"), "list.csv")
    assert ("csv", code_rows[0]) in {(e.sheet, e.row) for e in errors}


def test_changing_a_dataset_without_object_permission_is_reported_not_raised(world):
    from apps.catalog.models import DatasetGroupObjectPermission

    # The factory gives the provider its object permissions, as dataset_create does; take
    # them away so that its own officer lacks them on this dataset.
    DatasetGroupObjectPermission.objects.filter(content_object=world.dataset).delete()
    rows = [[world.dataset.code, "人口基本信息（改）", "", "人口", "id_number", "daily",
             "conditional", "", "《居民身份证法》"]]  # fmt: skip
    fields = [[world.dataset.code, "id_number", "公民身份号码", "id_card", "", "conditional", "",
               "《居民身份证法》", "none", "是", "", ""]]  # fmt: skip
    errors = _rejected(world, xlsx(rows, fields))
    assert [(e.sheet, e.row) for e in errors] == [("数据集", 2)]


def test_edits_that_return_to_the_published_version_publish_nothing(world):
    _import(world, good_xlsx(), publish=True, reason="首次")
    from apps.catalog.models import Field

    field = Field.objects.get(dataset__code="GA-HJ-010", name="district")
    services.field_update(field=field, by=world.provider_officer, label="临时")
    result = _import(world, good_xlsx(), publish=True, reason="恢复")
    assert result.updated == ["GA-HJ-010"] and result.published == []


def test_a_file_that_is_not_a_workbook_names_itself_and_the_accepted_formats(world):
    errors = _rejected(world, b"just text", "notcsv.xlsx")
    message = error_message(errors[0])
    assert "notcsv.xlsx" in message
    assert all(kind in message for kind in (".xlsx", ".csv", ".yaml"))
    assert "not read" not in message  # used to say CSV files are not read


def test_missing_csv_columns_name_the_dataset_and_the_field_column_apart(world):
    errors = _rejected(world, "数据集.资源名称,信息项名称\nx,y\n".encode(), "list.csv")
    messages = [error_message(e) for e in errors]
    assert any("“数据集.资源代码”" in m for m in messages)
    assert any("“资源代码” (dataset_code)" in m for m in messages)


def test_fields_at_one_position_reimport_as_unchanged(world, draft):
    """The admin used to store new fields at the position it offered (0)."""
    from apps.catalog.exports import export_csv
    from apps.catalog.models import Field
    from apps.catalog.selectors import published_snapshots

    Field.objects.filter(dataset=draft).update(position=0)
    services.dataset_publish(dataset=draft, by=world.provider_officer, reason="首次")
    exported = export_csv(published_snapshots(dataset_ids=[draft.pk]))
    assert _import(world, exported, "list.csv").unchanged == [draft.code]
    assert set(draft.fields.values_list("position", flat=True)) == {0}


def test_reordered_rows_renumber_the_fields(world):
    _import(world, good_xlsx())
    result = _import(world, xlsx([dataset_row()], field_rows()[::-1]))
    assert result.updated == ["GA-HJ-010"]
    dataset = Dataset.objects.get(code="GA-HJ-010")
    assert [f.name for f in dataset.fields.all()] == ["gender", "district", "id_number"]
