"""Exporting the published list in the import template, so that a round trip works."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from apps.catalog import services
from apps.catalog.exports import export_csv, export_xlsx
from apps.catalog.selectors import published_snapshots
from tests.catalog.conftest import stored_list
from tests.catalog.sheets import good_xlsx

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(world):
    services.catalog_import(
        department=world.provider, file=good_xlsx(), filename="x.xlsx",
        by=world.provider_officer, publish=True, reason="首次",
    )  # fmt: skip
    return world


def _reimport(world, data, filename):
    return services.catalog_import(
        department=world.provider, file=data, filename=filename, by=world.provider_officer,
        publish=True, reason="round trip",
    )  # fmt: skip


def test_xlsx_export_has_both_sheets_in_the_template(published):
    data = export_xlsx(published_snapshots(provider_ids=[published.provider.pk]))
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    assert workbook.sheetnames == ["数据集", "信息项"]
    rows = list(workbook["信息项"].iter_rows(values_only=True))
    assert rows[0][:3] == ("资源代码", "信息项名称", "信息项中文名")
    assert ("GA-HJ-010", "gender") in {(r[0], r[1]) for r in rows[1:]}


def test_xlsx_round_trip_changes_nothing(published):
    data = export_xlsx(published_snapshots(provider_ids=[published.provider.pk]))
    before = stored_list()
    result = _reimport(published, data, "export.xlsx")
    assert result.published == [] and set(result.unchanged) == {"GA-HJ-010", "GA-RK-001"}
    assert stored_list() == before


def test_csv_export_is_utf8_with_bom_and_round_trips(published):
    data = export_csv(published_snapshots(provider_ids=[published.provider.pk]))
    assert data.startswith(b"\xef\xbb\xbf")
    assert "公民身份号码" in data.decode("utf-8-sig")
    before = stored_list()
    assert set(_reimport(published, data, "export.csv").unchanged) == {"GA-HJ-010", "GA-RK-001"}
    assert stored_list() == before


def test_export_shows_the_published_version_not_the_working_copy(published):
    from apps.catalog.models import Field

    field = Field.objects.get(dataset__code="GA-HJ-010", name="district")
    services.field_update(field=field, by=published.provider_officer, label="草稿中的名称")
    text = export_csv(published_snapshots()).decode("utf-8-sig")
    assert "所属区县" in text and "草稿中的名称" not in text


def test_export_and_import_commands(published, tmp_path):
    out = tmp_path / "list.xlsx"
    call_command("catalog_export", str(out), "--department", "GA", stdout=io.StringIO())
    before = stored_list()
    stdout = io.StringIO()
    call_command(
        "catalog_import", "GA", str(out), "--as", published.provider_officer.username,
        stdout=stdout,
    )  # fmt: skip
    assert "unchanged 2" in stdout.getvalue()
    assert stored_list() == before


def test_import_command_reports_rows_and_fails(published, tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"code,name\n")
    stderr = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "catalog_import", "GA", str(bad), "--as", published.provider_officer.username,
            stderr=stderr,
        )  # fmt: skip
    assert ".xlsx" in stderr.getvalue()
