"""A real browser walk through the admin: headless Chromium (Debian package) via Playwright.

Serves the real app on 127.0.0.1 (a free port, aiohttp AppRunner) on SQLite, then logs in,
creates an item, edits a template and watches the preview change, approves an extension and
opens the dashboard. With ``DUBAN_SCREENSHOTS=1`` screenshots go to
``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Extension, Item, ReviewState, Role, Source
from models.db import create_sessionmaker
from supervision.accounts import hash_password
from supervision.requests import request_extension
from testing import SHANGHAI
from testing import factories as f
from testing.databases import IN_CI
from tests.web.conftest import PASSWORD, make_app

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("DUBAN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
#: Screenshots only on request: a full-page one costs Chromium real CPU time in every run.
SCREENSHOTS = os.environ.get("DUBAN_SCREENSHOTS") == "1"
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


async def screenshot(page: Any, name: str, **options: Any) -> None:
    """Save what ``page`` shows as ``ARTIFACTS/name``, when ``DUBAN_SCREENSHOTS=1``."""
    if SCREENSHOTS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / name), **options)


def _chromium() -> str:
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        if IN_CI:
            pytest.fail("Debian's chromium is required in CI (.ci/run installs it)", pytrace=False)
        pytest.skip("chromium not installed (apt-get install chromium)")
    return path


@pytest.fixture
async def server(sqlite_engine: AsyncEngine, clock) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """The real app on a free loopback port, with seeded people and one pending extension."""
    sessions = create_sessionmaker(sqlite_engine)
    async with sessions() as s, s.begin():
        unit_a = await f.unit(s, code="A", name="市发展改革委")
        admin = await f.person(s, name="王管理", email="admin@example.gov.cn", roles={Role.ADMIN})
        admin.password_hash = hash_password(PASSWORD)
        owner = await f.person(s, name="李责任", unit=unit_a, roles={Role.OWNER, Role.LIAISON})
        item = await f.item(
            s,
            ref="督〔2026〕7号",
            title="推进老旧小区改造",
            source=Source.MEETING,
            due_on=date(2026, 12, 14),
        )
        asg = await f.assignment(s, item=item, unit=unit_a, owner=owner)
        ext = await request_extension(
            s,
            assignment=asg,
            person=owner,
            reason="需要与住建部门协调",
            progress="已完成一半",
            new_due_on=date(2027, 1, 29),
            clock=clock,
            tz=SHANGHAI,
            channel="web",
        )
        ids = {"unit": unit_a.id, "extension": ext.id, "item": item.id}
    runner = web.AppRunner(make_app(sessions, clock), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", ids
    finally:
        await runner.cleanup()


async def test_browser_walk(server: tuple[str, dict[str, int]], sqlite_engine: AsyncEngine) -> None:
    executable = _chromium()
    from playwright.async_api import async_playwright, expect

    base, ids = server
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            page.set_default_timeout(15_000)
            # Only our server: anything else would be a page loading from the internet.
            outside: list[str] = []
            page.on(
                "request",
                lambda r: None if r.url.startswith(base) else outside.append(r.url),
            )

            # 1. Log in.
            await page.goto(base + "/items")
            await expect(page).to_have_url(base + "/login?next=/items")
            await page.fill("input[name=email]", "admin@example.gov.cn")
            await page.fill("input[name=password]", PASSWORD)
            await page.click("button[type=submit]")
            await expect(page).to_have_url(base + "/items")
            await screenshot(page, "1-items.png", full_page=True)

            # 2. Create an item; the default deadline appears as the form is filled.
            await page.goto(base + "/items/new")
            await page.fill("input[name=ref]", "督〔2026〕88号")
            await page.fill("input[name=title]", "完善城市排水设施")
            await page.select_option("select[name=source]", "document")
            await page.fill("input[name=received_on]", "2026-11-02")
            await page.dispatch_event("input[name=received_on]", "change")
            await expect(page.locator("#default-due")).to_contain_text("2026-12-14")
            await page.select_option("select[name=lead_unit]", str(ids["unit"]))
            await screenshot(page, "2-new-item.png", full_page=True)
            await page.click("form.item-form button[type=submit]")
            await expect(page.locator("h1")).to_contain_text("完善城市排水设施")
            await expect(page.locator(".flash")).to_be_visible()
            await screenshot(page, "3-item.png", full_page=True)

            # 3. Edit a template and watch the live preview change; save it.
            await page.goto(base + f"/templates/remind/telegram/zh/text?item={ids['item']}")
            body = page.locator("#template-body")
            await body.fill("请抓紧办理：{{ item.title }}（{{ item.ref }}）")
            preview = page.locator("#tg-bubble")
            await expect(preview).to_have_text("请抓紧办理：推进老旧小区改造（督〔2026〕7号）")
            await body.fill("请抓紧办理：{{ item.title }}\n{{ item.nope }}")
            await expect(page.locator("#template-error")).to_be_visible()
            await expect(page.locator("#source-lines li.line-error")).to_have_text(
                "{{ item.nope }}"
            )
            await body.fill("已修改：{{ item.title }}")
            await expect(preview).to_have_text("已修改：推进老旧小区改造")
            await screenshot(page, "4-template.png", full_page=True)
            await page.click("#template-form button[type=submit]")
            await expect(page.locator(".flash")).to_be_visible()
            await expect(page.locator("table.history")).to_contain_text("王管理")

            # 4. Approve the extension.
            await page.goto(base + "/reviews")
            row = page.locator(f"#extension-{ids['extension']}")
            await expect(row).to_contain_text("需要与住建部门协调")
            # A reason typed and Enter pressed decides nothing (it used to approve).
            comment = row.locator("textarea[name=comment]")
            await comment.fill("理由不足")
            await comment.press("Enter")
            await expect(page).to_have_url(base + "/reviews")
            await expect(page.locator(".flash")).to_have_count(0)
            await expect(row).to_be_visible()
            async with create_sessionmaker(sqlite_engine)() as s:
                pending = await s.get_one(Extension, ids["extension"])
                assert pending.state == ReviewState.PENDING and pending.comment is None
            # The buttons say what each will do.
            await expect(row.locator("button[value=approve]")).to_have_text("同意延期至 2027-01-29")
            await expect(row.locator("button[value=reject]")).to_have_text("退回：请填写理由")
            await comment.fill("同意延期")
            await row.locator("button[value=approve]").click()
            await expect(page.locator(".flash")).to_be_visible()
            await expect(page.locator(f"#extension-{ids['extension']}")).to_have_count(0)
            await screenshot(page, "5-reviews.png", full_page=True)

            # 5. The dashboard.
            await page.click("nav.main a[href='/']")
            await expect(page.locator("h1")).to_have_text("督办总览")
            await expect(page.locator("svg.chart")).to_be_visible()
            await expect(page.locator("b[data-light=green]")).to_have_text("2")
            await screenshot(page, "6-dashboard.png", full_page=True)
            assert outside == []
        finally:
            await browser.close()

    sessions = create_sessionmaker(sqlite_engine)
    async with sessions() as s:
        ext = await s.get_one(Extension, ids["extension"])
        assert ext.state == ReviewState.APPROVED and ext.comment == "同意延期"
        assert await s.scalar(select(Item.id).where(Item.ref == "督〔2026〕88号"))
