"""The template editor in a real browser (headless Chromium via Playwright), at 1366 and 390
px, in Chinese and English: each channel previewed as its reader gets it, on the real item's
data or the sample's, never both; a variable described and inserted at the cursor, the error's
line marked, the length counter, the diff, restore and reset with
its confirmation; and a supervisor and a unit's liaison refused.

With ``DUBAN_SCREENSHOTS=1`` the editor at 1366 px in Chinese is saved to
``docs/screenshots/template-editor.png`` (the README shows it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Role, Unit
from models.db import create_sessionmaker
from supervision.accounts import hash_password
from testing import factories as f
from tests.web.browser_support import BROWSER, LAPTOP, PHONE, login, new_page
from tests.web.conftest import PASSWORD

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = BROWSER

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "template-editor.png"

#: what each language calls things on the editor's pages
WORDS = {
    "zh": {
        "remind": "提醒",
        "subject": "邮件主题",
        "restored": "恢复自第 1 版",
        "line": "第 2 行",
        "ref": "文号",
        "real": "所选事项的真实数据",
        "sample": "示例数据",
        "sample_report": "已完成31个小区",
        "refused": "无权访问",
    },
    "en": {
        "remind": "Reminder",
        "subject": "Subject",
        "restored": "restored from version 1",
        "line": "line 2",
        "ref": "reference number",
        "real": "The chosen item's real data",
        "sample": "Sample data",
        "sample_report": "Tendering done for 31 compounds",
        "refused": "Not allowed",
    },
}


async def _no_sideways_scroll(page: Any) -> None:
    width = await page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= await page.evaluate("() => window.innerWidth")


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366px", "390px"])
async def test_the_template_editor(
    browser_server: tuple[str, dict[str, int]], chromium: Any, viewport: dict[str, int], lang: str
) -> None:
    from playwright.async_api import expect

    base, ids = browser_server
    words = WORDS[lang]
    tg = f"{base}/templates/remind/telegram/{lang}/text"
    async with new_page(chromium, viewport, locale="zh-CN") as page:
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
        # The list: steps in words, each channel, language and part named.
        await login(page, base, "admin@example.gov.cn", lang=lang, then="/templates")
        await expect(page.locator("#step-remind h2")).to_contain_text(words["remind"])
        await expect(page.locator("#step-remind")).to_contain_text(words["subject"])
        await expect(page.locator("main")).not_to_contain_text("telegram/")
        await _no_sideways_scroll(page)

        # Telegram: a bubble with its formatting and buttons, on the item's real data.
        await page.goto(f"{tg}?item={ids['item']}")
        bubble = page.locator("#tg-bubble")
        await expect(bubble.locator("b").first).to_be_visible()
        await expect(bubble).to_contain_text("推进老旧小区改造")
        await expect(bubble).not_to_contain_text("<b>")
        await expect(page.locator(".tg-button")).to_have_count(3)
        if viewport is LAPTOP and lang == "zh" and os.environ.get("DUBAN_SCREENSHOTS") == "1":
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT))

        # The real item's data only: it has no report, and the sample's is not borrowed.
        body = page.locator("#template-body")
        report = "{{ item.ref }}｜{{ last_report.text if last_report else '—' }}"
        await body.fill(report)
        await expect(bubble).to_have_text("督〔2026〕7号｜—")
        await expect(page.locator(".preview-source")).to_contain_text(words["real"])

        # Insert a variable at the cursor, described in the reader's language.
        await expect(
            page.locator("#template-panel li").filter(
                has=page.locator("button[data-insert='{{ item.ref }}']")
            )
        ).to_contain_text(words["ref"])
        await body.fill("<b>事项</b>：")
        await body.press("End")
        await page.click("#template-panel button[data-insert='{{ item.ref }}']")
        await expect(body).to_have_value("<b>事项</b>：{{ item.ref }}")
        await expect(bubble).to_have_text("事项：督〔2026〕7号")
        await expect(bubble.locator("b")).to_have_text("事项")
        await expect(page.locator("#length-used")).to_have_text("12")
        await expect(page.locator("#length-limit")).to_have_text("4096")

        # The sample: the sample's own report, not the item's.
        await page.goto(tg)
        await page.locator("#template-body").fill(report)
        await expect(bubble).to_contain_text(words["sample_report"])
        await expect(bubble).not_to_contain_text("督〔2026〕7号")
        await expect(page.locator(".preview-source")).to_contain_text(words["sample"])
        await page.goto(f"{tg}?item={ids['item']}")

        # A syntax error: the line is named and marked in the gutter and the source.
        await body.fill("第一行\n{% if %}\n第三行")
        await expect(page.locator("#error-line-note")).to_contain_text(words["line"])
        await expect(page.locator("#gutter li.line-error")).to_have_count(1)
        marked = await page.eval_on_selector(
            "#gutter", "(g) => [...g.children].findIndex((li) => li.className)"
        )
        assert marked == 1
        await expect(page.locator("#source-lines li.line-error")).to_have_text("{% if %}")

        # Too long for Telegram: the counter says so as the admin types.
        await body.fill("{{ '长' * 5000 }}")
        await expect(page.locator("#length-counter")).to_have_class("length over")
        await expect(page.locator("#length-used")).to_have_text("5000")

        # Save twice, see the diff against the default, restore the first version.
        await body.fill("<b>第一版</b> {{ item.title }}")
        await expect(bubble).to_contain_text("第一版")
        async with page.expect_navigation():
            await page.click("#template-form button[type=submit]")
        await expect(page.locator(".flash")).to_be_visible()
        await body.fill("第二版 {{ item.title }}")
        await expect(bubble).to_contain_text("第二版")
        async with page.expect_navigation():
            await page.click("#template-form button[type=submit]")
        await expect(page.locator(".flash")).to_be_visible()
        await expect(page.locator("table.diff tr.diff-changed td.new").first).to_be_visible()
        async with page.expect_navigation():
            await page.click("#version-1 button[type=submit]")
        await expect(page.locator(".flash")).to_be_visible()
        await expect(page.locator("#template-body")).to_have_value("<b>第一版</b> {{ item.title }}")
        await expect(page.locator("#version-3")).to_contain_text(words["restored"])
        await _no_sideways_scroll(page)

        # Reset: a page that asks, a box that must be ticked, then the default again.
        await page.click("#reset-link")
        await expect(page.locator("table.diff")).to_be_visible()
        await page.click("form.reset-form button[type=submit]")  # unticked: not sent
        await expect(page).to_have_url(tg + "/reset")
        await page.check("form.reset-form input[name=confirm]")
        async with page.expect_navigation():
            await page.click("form.reset-form button[type=submit]")
        await expect(page.locator(".flash")).to_be_visible()
        await expect(page.locator("#reset-link")).to_have_count(0)

        # E-mail: its subject, its HTML in a sandboxed frame, its plain-text part.
        await page.goto(f"{base}/templates/remind/email/{lang}/html?item={ids['item']}")
        await expect(page.locator("#mail-subject")).to_contain_text("督〔2026〕7号")
        frame = page.locator("iframe#mail-html")
        await expect(frame).to_have_attribute("sandbox", "")
        inside = page.frame_locator("iframe#mail-html").locator("body")
        await expect(inside).to_contain_text("推进老旧小区改造")
        await expect(page.locator("#mail-text")).to_contain_text("推进老旧小区改造")
        await _no_sideways_scroll(page)

        # A group robot: its markdown drawn, no markdown marks left.
        await page.goto(f"{base}/templates/overdue/group/{lang}/text")
        message = page.locator("#md-message")
        await expect(message.locator("b").first).to_be_visible()
        await expect(message).not_to_contain_text("**")
        assert outside == []


@pytest.mark.parametrize(
    ("viewport", "lang"), [(PHONE, "zh"), (LAPTOP, "en")], ids=["390px-zh", "1366px-en"]
)
async def test_a_supervisor_and_a_unit_role_are_refused(
    browser_server: tuple[str, dict[str, int]],
    browser_engine: AsyncEngine,
    chromium: Any,
    viewport: dict[str, int],
    lang: str,
) -> None:
    from playwright.async_api import expect

    base, ids = browser_server
    words = WORDS[lang]
    async with create_sessionmaker(browser_engine)() as s, s.begin():
        supervisor = await f.person(
            s, name="赵督查", email="sup@example.gov.cn", roles={Role.SUPERVISOR}
        )
        unit = await s.get_one(Unit, ids["unit"])
        liaison = await f.person(
            s, name="钱联络", email="liaison@example.gov.cn", unit=unit, roles={Role.LIAISON}
        )
        for person in (supervisor, liaison):
            person.password_hash = hash_password(PASSWORD)
    for email in ("sup@example.gov.cn", "liaison@example.gov.cn"):
        async with new_page(chromium, viewport, locale="zh-CN") as page:
            await login(page, base, email, lang=lang)
            await expect(page.locator("nav.main a[href='/templates']")).to_have_count(0)
            for url in ("/templates", f"/templates/remind/telegram/zh/text?item={ids['item']}"):
                response = await page.goto(base + url)
                assert response is not None and response.status == 403, (email, url)
                await expect(page.locator("h1")).to_have_text(words["refused"])
                await expect(page.locator("#template-form")).to_have_count(0)
                await expect(page.locator("main")).not_to_contain_text("推进老旧小区改造")
