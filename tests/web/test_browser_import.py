"""The import page in real Chromium, at 1366 and 390 px, in Chinese and English: a GBK file
with Chinese headers is checked by the admin, its row errors shown in the page's language,
then a good one is checked by a supervisor, confirmed, and what it did is shown (新增/更新/
未变, the computed deadline); a unit's liaison has no import in the menu and is refused it.

Screenshots only with ``DUBAN_SCREENSHOTS=1`` (to ``test-artifacts/browser/``).
"""

from __future__ import annotations

import os
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Item
from tests.web.browser_support import (
    ADMIN,
    ARTIFACTS,
    BROWSER,
    LAPTOP,
    PHONE,
    login,
    new_page,
    office_roles,
)
from tests.web.test_browser_phone import MEASURE, MIN_CELL

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = BROWSER

SCREENSHOTS = os.environ.get("DUBAN_SCREENSHOTS") == "1"
HEADER = "文号,事项,来源,交办时间,完成时限,牵头单位,责任人邮箱\n"

#: what the page says, by language
WORDS = {
    "zh": {
        "errors": "督查事项：1 行中有 1 行有误，共 2 处问题；未写入任何数据",
        "column": "交办时间",
        "reason": "“2026-13-01”不是有效日期",
        "checked": "检查通过：2 行可以导入。",
        "done": "导入完成。",
        "summary": "督查事项：共 2 行，新增 2，更新 0，未变 0",
        "computed": "计算所得",
        "forbidden": "无权访问",
    },
    "en": {
        "errors": "items: 1 bad row(s) out of 1, 2 problem(s); nothing was written",
        "column": "交办时间",
        "reason": "'2026-13-01' is not a real date",
        "checked": "Check passed: 2 rows can be imported.",
        "done": "Imported.",
        "summary": "items: 2 row(s): 2 created, 0 updated, 0 unchanged",
        "computed": "computed",
        "forbidden": "Not allowed",
    },
}


async def _check_layout(page: Any, viewport: dict[str, int], where: str) -> None:
    facts = await page.evaluate(MEASURE)
    assert facts["scrollWidth"] <= facts["innerWidth"], (where, facts)
    for table in facts["tables"]:
        assert table["narrowest"] >= MIN_CELL, (where, table)
        assert table["scrolls"] or table["right"] <= facts["innerWidth"], (where, table)
    if SCREENSHOTS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"import-{where}.png"), full_page=True)


async def _upload(page: Any, name: str, data: bytes) -> None:
    await page.set_input_files(
        "input[name=file]", files=[{"name": name, "mimeType": "text/csv", "buffer": data}]
    )
    await page.click("form.card button[type=submit]")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
async def test_import_page_upload_errors_and_summary(
    browser_server: tuple[str, dict[str, int]],
    browser_engine: AsyncEngine,
    chromium: Any,
    viewport: dict[str, int],
    lang: str,
) -> None:
    from playwright.async_api import expect

    base, ids = browser_server
    logins = await office_roles(browser_engine, ids["unit"])
    owner = logins["unit"]
    words = WORDS[lang]
    width = viewport["width"]
    bad = HEADER + f"督〔2026〕50号,,会议,2026-13-01,,A,{owner}\n"
    good = HEADER + (
        f"督〔2026〕50号,道路整治,会议决定,2026-11-02,2026-12-31,A,{owner}\n"
        f"督〔2026〕51号,河道清淤,领导批示,2026-11-02,,A,{owner}\n"
    )
    async with new_page(chromium, viewport, locale="zh-CN") as page:
        await login(page, base, ADMIN, lang=lang, then="/import")
        await expect(page.locator("html")).to_have_attribute("lang", re.compile(f"^{lang}"))
        await expect(page.locator("a[href='/import/template/items.xlsx']")).to_be_visible()
        await _upload(page, "坏文件.csv", bad.encode("gbk"))
        errors = page.locator("table.row-errors")
        await expect(page.locator("p.error")).to_contain_text(words["errors"])
        await expect(errors).to_contain_text(words["column"])
        await expect(errors).to_contain_text(words["reason"])
        await _check_layout(page, viewport, f"{width}-{lang}-errors")
    async with new_page(chromium, viewport, locale="zh-CN") as page:
        await login(page, base, logins["supervisor"], lang=lang, then="/import")
        await expect(page.locator("nav.main a[href='/import']")).to_have_count(1)
        await _upload(page, "事项.csv", good.encode("gbk"))
        await expect(page.locator("p.summary")).to_contain_text(words["checked"])
        await page.click("section.result button[type=submit]")
        summary = page.locator("p.summary")
        await expect(summary).to_contain_text(words["done"])
        await expect(summary).to_contain_text(words["summary"])
        counts = page.locator(".counts .count b")
        assert await counts.all_inner_texts() == ["2", "0", "0"]
        deadlines = page.locator("table.deadlines")
        await expect(deadlines).to_contain_text("督〔2026〕51号")
        await expect(deadlines).to_contain_text(words["computed"])
        await expect(page.locator("section.result form")).to_have_count(0)
        await _check_layout(page, viewport, f"{width}-{lang}-done")
    async with browser_engine.connect() as conn:
        refs = set((await conn.scalars(select(Item.ref))).all())
    assert {"督〔2026〕50号", "督〔2026〕51号"} <= refs
    async with new_page(chromium, viewport, locale="zh-CN") as page:
        await login(page, base, logins["unit"], lang=lang)
        await expect(page.locator("nav.main a[href='/import']")).to_have_count(0)
        response = await page.goto(base + "/import")
        assert response is not None and response.status == 403
        await expect(page.locator("main")).to_contain_text(words["forbidden"])
