"""The whole story in a real browser (Chromium driven by Playwright) against gunicorn: a
provider's officer publishes a responsibility list from a spreadsheet, a consumer's officer
requests fields, the provider approves part of the request, an application reads exactly the
approved fields masked as declared, and an auditor finds the read and verifies the chain.
Each screen is saved to docs/screenshots/NN-name.png for the README."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import httpx
import pytest
from stdnum.cn import ric

from govdata.masking import mask_mobile, mask_name
from tests.catalog.sheets import DS_HEADER, FD_HEADER, xlsx
from tests.e2e.browser import ARGS, CHROMIUM, admin_login
from tests.live import gunicorn_server

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CODE = "GA-HJ-020"
LEGAL = "《中华人民共和国居民身份证法》第十三条"
REQUESTED = ["id_number", "name", "mobile", "address"]
APPROVED = ["id_number", "name", "mobile"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"no Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk",
    ),
]


def responsibility_list() -> bytes:
    dataset = [CODE, "户籍人口信息", "常住人口户籍登记", "人口", "id_number", "daily",
               "有条件共享", "经审批后共享", LEGAL]  # fmt: skip
    fields = [
        [CODE, "id_number", "公民身份号码", "id_card", "sensitive", "有条件共享", "", LEGAL,
         "none", "是", "", ""],
        [CODE, "name", "姓名", "string", "sensitive", "有条件共享", "", LEGAL, "name", "是", "",
         ""],
        [CODE, "mobile", "联系电话", "mobile", "sensitive", "有条件共享", "", LEGAL, "mobile",
         "否", "", ""],
        [CODE, "address", "住址", "string", "sensitive", "有条件共享", "", LEGAL, "address", "否",
         "", ""],
        [CODE, "district", "所属区县", "string", "public", "无条件共享", "", "", "none", "否", "",
         ""],
        [CODE, "gender", "性别", "enum", "internal", "无条件共享", "", "", "none", "否", "男|女",
         ""],
    ]  # fmt: skip
    return xlsx([dataset], fields, DS_HEADER, FD_HEADER)


def id_number(i: int) -> str:
    body = f"44010619{80 + i:02d}0101{i:03d}"
    return body + ric.calc_check_digit(body)


ROWS = [
    {
        "id_number": id_number(i),
        "name": name,
        "mobile": f"1380013{i:04d}",
        "address": f"广东省广州市{district}体育西路{i}号",
        "district": district,
        "gender": "男" if i % 2 else "女",
    }
    for i, (name, district) in enumerate(
        [("张三", "天河区"), ("李四", "越秀区"), ("王五", "天河区")]
    )
]


class Shots:
    def __init__(self) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.n = 0

    def take(self, page, name: str) -> None:
        self.n += 1
        page.screenshot(path=str(SHOTS / f"{self.n:02d}-{name}.png"), full_page=True)


def login(browser, base_url: str, username: str):
    return admin_login(
        browser, base_url, username, locale="zh-CN", viewport={"width": 1280, "height": 800}
    )


def api_from_browser(page, method: str, path: str, body: dict | None = None) -> dict:
    """A fetch from the logged-in page: session cookie plus CSRF token, as an officer's tool."""
    return page.evaluate(
        """async ([method, path, body]) => {
            const token = document.cookie.split('; ').find(c => c.startsWith('csrftoken='));
            const r = await fetch(path, {method, body: body === null ? undefined :
                JSON.stringify(body), headers: {
                'Content-Type': 'application/json', 'X-CSRFToken': token.split('=')[1]}});
            return {status: r.status, body: await r.json()};
        }""",
        [method, path, body],
    )


def test_list_published_requested_partly_approved_read_masked_and_audited(
    flushable_db, world, tmp_path, monkeypatch
):
    # Playwright's sync API runs an event loop in this thread; the ORM calls made here between
    # browser steps are plain blocking calls on the test's own connection.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    from apps.api.services import application_create
    from apps.audit.models import AuditEvent
    from apps.catalog.models import Dataset
    from apps.common import clock
    from apps.records.store import store_ensure_table, store_replace_rows
    from apps.sharing.models import DataRequest
    from tests.live import fetch_token

    shots = Shots()
    sheet = Path(tempfile.mkdtemp(dir=tmp_path)) / "共享责任清单.xlsx"
    sheet.write_bytes(responsibility_list())
    with (
        gunicorn_server(log_path=tmp_path / "gunicorn.log") as base_url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

        # 1. The provider's officer imports and publishes the responsibility list.
        provider = login(browser, base_url, world.provider_officer.username)
        # The admin is styled: its stylesheet is served and applied (not raw HTML).
        header_colour = provider.evaluate(
            "getComputedStyle(document.querySelector('#header')).backgroundColor"
        )
        assert header_colour not in ("", "rgba(0, 0, 0, 0)", "transparent"), header_colour
        shots.take(provider, "provider-officer-admin")
        provider.goto("/admin/catalog/dataset/import/")
        provider.select_option("#id_department", label=str(world.provider))
        provider.set_input_files("#id_file", str(sheet))
        provider.check("#id_publish")
        provider.fill("#id_reason", "发布2026年度共享责任清单")
        shots.take(provider, "import-responsibility-list")
        provider.click("#content form [type=submit]")
        provider.wait_for_load_state()
        errors = provider.locator("#import-errors, .errorlist, .errornote")
        assert errors.count() == 0, errors.all_inner_texts()
        provider.wait_for_url("**/admin/catalog/dataset/")
        assert CODE in provider.content()
        shots.take(provider, "responsibility-list-published")
        dataset = Dataset.objects.get(code=CODE)
        assert dataset.status == Dataset.Status.PUBLISHED
        store_ensure_table(dataset)  # what the first sync from the source system would do
        store_replace_rows(dataset, ROWS)

        # 2. The consumer's officer finds the dataset in the responsibility list of every
        #    department, sees what it may read, and requests four conditional fields.
        consumer = login(browser, base_url, world.consumer_officer.username)
        consumer.goto(f"/admin/sharing/publisheddataset/?q={CODE}")
        consumer.click(f"#result_list a:text-is('{CODE}')")
        consumer.wait_for_url("**/admin/sharing/publisheddataset/*/change/**")
        shots.take(consumer, "consumer-reads-catalogue-entry")
        consumer.click("a.addlink[href*='/request/']")
        consumer.wait_for_url("**/request/*")
        for name in REQUESTED:
            consumer.check(f"input[name=fields][value={name}]")
        consumer.fill("#id_purpose", "健康码核验")
        consumer.fill("#id_legal_basis", "《传染病防治法》第十二条")
        until = (clock.today() + dt.timedelta(days=90)).isoformat()
        consumer.fill("#id_valid_until", until)
        shots.take(consumer, "consumer-requests-fields")
        consumer.click("#content form [type=submit]")
        consumer.wait_for_load_state()
        consumer.wait_for_url("**/admin/sharing/datarequest/*/change/")
        request_id = int(consumer.url.rstrip("/").split("/")[-2])
        submitted = DataRequest.objects.get(pk=request_id)
        assert submitted.status == "submitted" and submitted.consumer == world.consumer
        assert sorted(submitted.fields.values_list("name", flat=True)) == sorted(REQUESTED)
        shots.take(consumer, "consumer-request-submitted")
        # The same request, followed through the API from the officer's browser session.
        followed = api_from_browser(consumer, "GET", f"/api/v1/requests/{request_id}/")
        assert followed["status"] == 200 and followed["body"]["status"] == "submitted"

        # 3. The provider approves three of the four fields in the admin.
        provider.goto("/admin/sharing/datarequest/?direction=incoming")
        shots.take(provider, "provider-incoming-requests")
        provider.goto(f"/admin/sharing/datarequest/{request_id}/approve/")
        provider.uncheck("input[name=fields][value=address]")
        # The requested validity is offered as the default (an ISO value a date input can show).
        assert provider.input_value("#id_valid_until") == until
        shots.take(provider, "provider-approves-part")
        provider.click("#content form [type=submit]")
        provider.wait_for_load_state()
        provider.wait_for_url("**/admin/sharing/grant/*/change/")
        shots.take(provider, "grant-created")

        # 4. The consumer's application reads with client credentials and a purpose.
        agency, secret = application_create(
            department=world.consumer, name="健康码系统", scopes="read requests"
        )
        token = fetch_token(base_url, agency.application.client_id, secret)
        response = httpx.get(
            f"{base_url}/api/v1/datasets/{CODE}/records/",
            params={"ordering": "id_number"},
            headers={
                "Authorization": f"Bearer {token}",
                "X-Purpose": "健康码核验".encode(),
                "X-Case-Id": b"HC-2026-0001",
            },  # fmt: skip
        )
        assert response.status_code == 200, response.text
        read_id = response.headers["X-Request-Id"]
        results = response.json()["results"]
        assert [list(r) for r in results] == [APPROVED + ["district", "gender"]] * len(ROWS)
        for got, row in zip(results, sorted(ROWS, key=lambda r: r["id_number"]), strict=True):
            assert got == {
                "id_number": row["id_number"],  # granted in clear, as declared
                "name": mask_name(row["name"]),  # 张三 -> 张*
                "mobile": mask_mobile(row["mobile"]),  # 138****0000
                "district": row["district"],  # unconditional
                "gender": row["gender"],
            }  # address was requested but not approved: absent
        app_page = browser.new_page(
            base_url=base_url,
            extra_http_headers={"Authorization": f"Bearer {token}", "X-Purpose": "health-code"},
        )
        app_page.goto(f"/api/v1/datasets/{CODE}/records/?ordering=id_number")
        assert mask_name("张三") in app_page.content()
        app_page.evaluate(  # pretty-print the response as received, for the screenshot
            "const raw = document.querySelector('pre').innerText;"
            "const t = JSON.stringify(JSON.parse(raw), null, 2);"
            "document.body.innerHTML = ''; const p = document.createElement('pre');"
            "p.textContent = t; document.body.appendChild(p);"
        )
        shots.take(app_page, "application-reads-masked-records")

        # 5. The platform auditor finds the read and verifies the chain.
        auditor = login(browser, base_url, world.platform_auditor.username)
        auditor.goto("/admin/audit/auditevent/")
        auditor.fill("#id_dataset", CODE)
        auditor.fill("#id_purpose", "健康码")
        auditor.click("#content form [type=submit]")
        auditor.wait_for_load_state()
        [event] = [e for e in AuditEvent.objects.filter(kind="access") if e.request_id == read_id]
        assert event.purpose == "健康码核验" and event.case_id == "HC-2026-0001"
        assert event.fields == {"id_number": "none", "name": "name", "mobile": "mobile",
                                "district": "none", "gender": "none"}  # fmt: skip
        shots.take(auditor, "auditor-searches-the-log")
        auditor.click(f"a[href$='/admin/audit/auditevent/{event.seq}/']")
        auditor.wait_for_load_state()
        assert read_id in auditor.content()
        shots.take(auditor, "auditor-finds-the-read")
        auditor.goto("/admin/audit/auditevent/verify/")
        shots.take(auditor, "audit-chain-verified-console")
        auditor.goto("/api/v1/audit/verify/")
        verdict = json.loads(auditor.inner_text("body"))
        assert verdict["ok"] is True and verdict["events_checked"] >= event.seq
        shots.take(auditor, "audit-chain-verified-api")
        browser.close()
