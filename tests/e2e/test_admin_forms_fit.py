"""Two admin forms in a real browser (Chromium driven by Playwright) against gunicorn, as a data
officer on a 1366 px laptop sees them: the dataset page's field table fits the window without
sideways scrolling, in Chinese and in English, every control still editable and no chosen text
cut off, a field pending removal said so and no other; the demand form's dataset choice is a
search that offers the asked department's datasets."""

from __future__ import annotations

import os

import pytest

from tests.e2e.browser import ARGS, CHROMIUM, admin_login
from tests.live import gunicorn_server

LAPTOP = {"width": 1366, "height": 768}
LONG_BASIS = (
    "《中华人民共和国居民身份证法》第十三条、《广东省政务数据资源共享管理办法》第十九条第二款"
)
# Every attribute of a field the table lets an officer edit (forms.FieldInlineForm).
CONTROLS = ["position", "name", "label", "data_type", "sensitivity", "sharing_type", "masking",
            "legal_basis", "conditions", "required", "enum_values", "DELETE"]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk",
    ),
]


def _login(browser, base_url: str, username: str, locale: str):
    return admin_login(browser, base_url, username, locale=locale, viewport=LAPTOP)


def _widths(page) -> dict:
    return page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth,
            window: document.documentElement.clientWidth,
            table: document.querySelector('#fields-group').getBoundingClientRect().right,
            sidebarOpen: document.querySelector('#main').classList.contains('shifted'),
        })"""
    )


def _assert_row_fits(page, row: int, controls=CONTROLS) -> None:
    for name in controls:
        control = page.locator(f"[name='fields-{row}-{name}']")
        assert control.is_visible(), name
        box = control.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], (name, box)


def _cut_texts(page) -> list[dict]:
    """The table's selects narrower than their chosen text needs, and the one-line inputs
    whose text is cut: what an officer cannot read without opening or scrolling them."""
    return page.evaluate(
        """() => {
            const rows = '#fields-group tr.form-row:not(.empty-form)';
            const cut = [];
            for (const select of document.querySelectorAll(`${rows} select`)) {
                const probe = document.createElement('select');
                probe.add(new Option(select.selectedOptions[0].text));
                probe.style.width = 'auto';
                probe.style.position = 'absolute';
                select.parentNode.appendChild(probe);
                const needs = probe.getBoundingClientRect().width;
                probe.remove();
                const has = select.getBoundingClientRect().width;
                if (has + 0.5 < needs) cut.push({name: select.name, has, needs});
            }
            for (const input of document.querySelectorAll(`${rows} input[type=text]`)) {
                if (input.scrollWidth > input.clientWidth) {
                    cut.push({name: input.name, value: input.value});
                }
            }
            return cut;
        }"""
    )


def _search(page, term: str) -> list[str]:
    """What the demand form's dataset search offers for `term`."""
    page.click(".field-dataset .select2-selection")
    page.fill(".select2-search__field", term)
    page.wait_for_timeout(600)  # select2 waits 250 ms before asking the server
    options = page.locator(".select2-results__option:not(.loading-results)")
    options.first.wait_for()
    return options.all_inner_texts()


@pytest.mark.parametrize(("locale", "heading"), [("zh-CN", "信息项"), ("en-US", "Fields")])
def test_the_field_table_fits_a_laptop_without_sideways_scrolling(
    flushable_db, world, tmp_path, monkeypatch, locale, heading
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    from apps.catalog.models import Field
    from tests.factories import FieldFactory

    world.dataset.fields.filter(sharing_type__in=["conditional", "none"]).update(
        legal_basis=LONG_BASIS, conditions="仅用于疫苗接种预约身份核验，不得向第三方提供"
    )
    world.dataset.fields.filter(name="gender").update(enum_values=["男", "女", "未说明的性别"])
    # The longest choices of every select, and a name as long as the tester's.
    FieldFactory(
        dataset=world.dataset, position=8, name="monthly_amount", label="月发放金额",
        data_type="credit_code", sensitivity="highly_sensitive", sharing_type="conditional",
        masking="bank_card", legal_basis=LONG_BASIS,
    )  # fmt: skip
    world.dataset.fields.filter(name="religion").update(pending_removal=True)
    url = f"/admin/catalog/dataset/{world.dataset.pk}/change/"
    with gunicorn_server(log_path=tmp_path / "gunicorn.log") as base_url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = _login(browser, base_url, world.provider_officer.username, locale)
        page.goto(url)
        assert page.locator("#fields-heading").inner_text().strip().lower() == heading.lower()
        widths = _widths(page)
        page.screenshot(path=str(tmp_path / f"fields-{locale}.png"), full_page=True)
        assert widths["sidebarOpen"], widths  # the narrowest case: the admin's side bar open
        assert widths["page"] <= widths["window"], widths
        assert widths["table"] <= widths["window"], widths
        for row in range(world.dataset.fields.count()):
            _assert_row_fits(page, row)
        assert _cut_texts(page) == []
        # Said of the one field that goes, and of no other.
        notes = page.locator("#fields-group .field-table-removal")
        assert notes.count() == 1
        assert (
            page.locator("#fields-group tr.has_original", has=page.locator(".field-table-removal"))
            .locator("[name$='-name']")
            .input_value()
            == "religion"
        )
        box = notes.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], box

        # A row added in the page is laid out the same, and every control takes input.
        new = world.dataset.fields.count()
        page.click("#fields-group .add-row a")
        _assert_row_fits(page, new, [c for c in CONTROLS if c != "DELETE"])  # removed by a link
        assert _widths(page)["page"] <= LAPTOP["width"]
        page.locator(f"#fields-{new} .inline-deletelink").click()
        page.fill("[name='fields-0-label']", "公民身份号码（18位）")
        page.fill("[name='fields-0-conditions']", "仅限身份核验")
        page.click("[name='_continue']")
        page.wait_for_url(f"**{url}")
        errors = page.locator(".errornote, .errorlist")
        assert errors.count() == 0, errors.all_inner_texts()
        field = Field.objects.get(dataset=world.dataset, name="id_number")
        assert (field.label, field.conditions) == ("公民身份号码（18位）", "仅限身份核验")
        browser.close()


def test_the_demand_form_searches_the_asked_departments_datasets(
    flushable_db, world, tmp_path, monkeypatch
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    from apps.catalog.models import Demand
    from tests.factories import DatasetFactory

    DatasetFactory(provider=world.provider, code="GA-HJ-002", name="户籍迁移信息")
    DatasetFactory(provider=world.outsider, code="MZ-HJ-001", name="婚姻户籍信息")
    with gunicorn_server(log_path=tmp_path / "gunicorn.log") as base_url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = _login(browser, base_url, world.consumer_officer.username, "en-US")
        page.goto("/admin/catalog/demand/add/")
        assert page.input_value("#id_requester") == str(world.consumer.pk)  # the only choice
        # No links to dataset pages the officer may not open, nor to add one of their own.
        assert page.locator(".field-dataset a.related-widget-wrapper-link").count() == 0
        # No department asked yet: every department's datasets; choosing one fills it in.
        assert _search(page, "户籍") == [
            f"GA-HJ-002 户籍迁移信息 ({world.provider.name})",
            f"MZ-HJ-001 婚姻户籍信息 ({world.outsider.name})",
        ]
        page.locator(".select2-results__option", has_text="MZ-HJ-001").click()
        assert page.input_value("#id_provider") == str(world.outsider.pk)
        # Another department asked: its datasets only, and the other's choice is cleared.
        page.select_option("#id_provider", str(world.provider.pk))
        assert page.input_value("#id_dataset") == ""
        assert _search(page, "户籍") == [f"GA-HJ-002 户籍迁移信息 ({world.provider.name})"]
        page.locator(".select2-results__option", has_text="GA-HJ-002").click()
        page.fill("#id_title", "需要户籍迁移数据")
        page.fill("#id_description", "用于疫苗接种通知")
        page.screenshot(path=str(tmp_path / "demand-search.png"), full_page=True)
        page.click("[name='_save']")
        page.wait_for_url("**/admin/catalog/demand/")
        demand = Demand.objects.get()
        assert (demand.provider, demand.dataset.code) == (world.provider, "GA-HJ-002")
        browser.close()
