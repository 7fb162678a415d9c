"""The dataset page's field table fits a screen: one-line inputs, small boxes for the free
texts, allowed values written as in the list file (男|女, empty for none, never "[]"); and a
field's code and label have the same names everywhere."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from apps.catalog import services
from apps.catalog.models import Dataset
from tests.catalog.conftest import LEGAL, make_draft

pytestmark = pytest.mark.django_db


def _change(dataset) -> str:
    return reverse("admin:catalog_dataset_change", args=[dataset.pk])


def _tag(page: str, name: str) -> str:
    found = re.search(rf'<(input|textarea|select)[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert found, name
    return found[0]


@pytest.fixture
def gender(world):
    dataset = make_draft(world.provider_officer, world.provider)
    services.field_create(
        dataset=dataset, by=world.provider_officer, name="gender", label="性别",
        data_type="enum", sharing_type="unconditional", enum_values=["男", "女"],
    )  # fmt: skip
    return dataset


def test_free_texts_are_small_boxes_and_the_rest_one_line_inputs(client, world, gender):
    client.force_login(world.provider_officer)
    page = client.get(_change(gender)).content.decode()
    for name in ("legal_basis", "conditions"):
        tag = _tag(page, f"fields-0-{name}")
        assert tag.startswith("<textarea") and 'rows="2"' in tag and 'cols="15"' in tag
        assert "vLargeTextField" not in tag
    for name, size in (("name", 11), ("label", 11), ("enum_values", 9)):
        tag = _tag(page, f"fields-0-{name}")
        assert tag.startswith('<input type="text"') and f'size="{size}"' in tag
    for name in ("data_type", "masking"):  # as wide as their longest choice (e2e tests)
        assert "class=" not in _tag(page, f"fields-0-{name}")
    assert "catalog/fields.css" in page
    assert ' style="' not in page  # the Content-Security-Policy refuses inline styles


def test_allowed_values_show_as_in_the_list_file_and_empty_when_there_are_none(
    client, world, gender
):
    client.force_login(world.provider_officer)
    page = client.get(_change(gender)).content.decode()
    names = re.findall(r'name="fields-(\d+)-name"[^>]*value="([^"]*)"', page)
    rows = {name: index for index, name in names}
    assert 'value="男|女"' in _tag(page, f"fields-{rows['gender']}-enum_values")
    empty = _tag(page, f"fields-{rows['district']}-enum_values")
    assert "[]" not in empty and "value=" not in empty
    assert "[]" not in _tag(page, "fields-__prefix__-enum_values")


def _row(field, **changes) -> dict:
    values = {"id": field.pk, "dataset": field.dataset_id, "position": field.position,
              "name": field.name, "label": field.label, "data_type": field.data_type,
              "sensitivity": field.sensitivity, "sharing_type": field.sharing_type,
              "masking": field.masking, "legal_basis": field.legal_basis,
              "conditions": field.conditions,
              "enum_values": "|".join(field.enum_values)}  # fmt: skip
    return {**values, **changes}


def _post(client, dataset, rows):
    data = {"name": dataset.name, "summary": dataset.summary, "category": dataset.category,
            "key_field": dataset.key_field, "update_frequency": dataset.update_frequency,
            "sharing_type": dataset.sharing_type, "conditions": dataset.conditions,
            "legal_basis": dataset.legal_basis, "fields-TOTAL_FORMS": len(rows),
            "fields-INITIAL_FORMS": sum(1 for r in rows if r.get("id")),
            "fields-MIN_NUM_FORMS": 0, "fields-MAX_NUM_FORMS": 1000, "_save": "1"}  # fmt: skip
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"fields-{i}-{key}"] = value
    return client.post(_change(dataset), data)


def test_allowed_values_are_saved_from_one_line(client, world, gender):
    client.force_login(world.provider_officer)
    fields = {f.name: f for f in gender.fields.all()}
    rows = [_row(fields["id_number"]), _row(fields["district"]),
            _row(fields["gender"], enum_values=" 男 | 女 | 未说明 ")]  # fmt: skip
    response = _post(client, gender, rows)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert gender.fields.get(name="gender").enum_values == ["男", "女", "未说明"]
    assert gender.fields.get(name="district").enum_values == []


def test_an_unchanged_page_saved_as_it_was_shown_changes_no_field(client, world, gender):
    services.dataset_publish(dataset=gender, by=world.provider_officer, reason="首次")
    client.force_login(world.provider_officer)
    rows = [_row(f) for f in gender.fields.all()]
    assert _post(client, gender, rows).status_code == 302
    assert not Dataset.objects.get(pk=gender.pk).has_unpublished_changes


def test_a_json_list_is_still_read(client, world, gender):
    client.force_login(world.provider_officer)
    fields = {f.name: f for f in gender.fields.all()}
    rows = [_row(fields["id_number"], enum_values="[]"), _row(fields["district"]),
            _row(fields["gender"], enum_values='["男", "女", "其他"]')]  # fmt: skip
    assert _post(client, gender, rows).status_code == 302
    assert gender.fields.get(name="gender").enum_values == ["男", "女", "其他"]
    assert gender.fields.get(name="id_number").enum_values == []


def test_a_fields_code_and_label_are_named_as_in_the_list_file(client, world, gender):
    client.force_login(world.provider_officer)
    page = client.get(_change(gender)).content.decode()
    cells = re.findall(r'<th class="column-(?:name|label)[^"]*">(.*?)</th>', page, re.S)
    headers = [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]
    assert headers == ["Field name", "Field label"]
    zh = client.get(_change(gender), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">名称<" not in zh  # the bare word that meant the code here, the label elsewhere


def test_legal_basis_keeps_its_line_breaks(client, world, gender):
    client.force_login(world.provider_officer)
    fields = {f.name: f for f in gender.fields.all()}
    basis = f"{LEGAL}\r\n第二款"
    rows = [_row(fields["id_number"], legal_basis=basis), _row(fields["district"]),
            _row(fields["gender"])]  # fmt: skip
    assert _post(client, gender, rows).status_code == 302
    assert gender.fields.get(name="id_number").legal_basis == f"{LEGAL}\n第二款"


def test_only_a_field_pending_removal_says_so_and_no_row_shows_a_yes_no_icon(client, world, gender):
    services.dataset_publish(dataset=gender, by=world.provider_officer, reason="首次")
    services.field_remove(field=gender.fields.get(name="district"), by=world.provider_officer)
    client.force_login(world.provider_officer)
    page = client.get(_change(gender)).content.decode()
    table = page[page.index('id="fields-group"') :]
    assert "icon-no.svg" not in table and "icon-yes.svg" not in table  # read as delete buttons
    names = [name for _, name in re.findall(r'name="fields-(\d+)-name"[^>]*value="([^"]*)"', page)]
    notes = re.findall(r'<td class="field-removal_note">\s*<p>(.*?)</p>', table, re.S)
    said = [re.sub(r"<[^>]+>", "", note).strip() for note in notes]
    assert dict(zip(names, said, strict=False)) == {
        "id_number": "", "district": "Removed at next publication", "gender": ""
    }  # fmt: skip
    assert 'class="field-table-removal"' in table
