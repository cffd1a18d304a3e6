"""The documents in real Chromium: printing the bulletin and the item page shows the content
without the menu (1366 px), and on a phone (390 px) the DOCX links are there and download
under their Chinese names (RFC 5987), in Chinese and in English; for the admin, a supervisor
(downloads only: the office's pages print alike) and a unit's liaison (the item's sheets
only: the bulletin is the office's; the item page's report forms are not printed).

Screenshots only with ``DUBAN_SCREENSHOTS=1`` (to ``test-artifacts/browser/``).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Role
from models.db import create_sessionmaker
from supervision.accounts import hash_password
from supervision.audit import Actor
from supervision.bulletins import compute_bulletin, freeze_bulletin
from supervision.calendar_store import load_calendar
from supervision.clock import FixedClock
from supervision.periods import parse_period
from testing import SHANGHAI
from testing import factories as f
from tests.web.browser_support import (
    ARTIFACTS,
    BROWSER,
    LAPTOP,
    PHONE,
    browser_app,
    login,
    new_page,
    serve,
)
from tests.web.conftest import PASSWORD
from web.views.bulletins import setup_bulletin_pages

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = BROWSER

SHOTS = os.environ.get("DUBAN_SCREENSHOTS") == "1"


@pytest_asyncio.fixture(loop_scope="session")
async def documents_server(
    browser_engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """The app with the bulletin pages on a free loopback port: an admin, a supervisor, the
    unit's liaison, an overdue item and October's bulletin, issued."""
    sessions = create_sessionmaker(browser_engine)
    async with sessions() as s, s.begin():
        unit = await f.unit(s, code="A", name="市发展改革委")
        for name, email, role in (
            ("王管理", "admin@example.gov.cn", Role.ADMIN),
            ("赵督查", "sup@example.gov.cn", Role.SUPERVISOR),
            ("李联络", "liaison@example.gov.cn", Role.LIAISON),
        ):
            person = await f.person(s, name=name, email=email, roles={role})
            person.password_hash = hash_password(PASSWORD)
            if role is Role.LIAISON:
                person.unit_id = unit.id
        item = await f.item(
            s, ref="督〔2026〕7号", title="推进老旧小区改造", received_on=date(2026, 10, 8)
        )
        await f.assignment(s, item=item, unit=unit, due_on=date(2026, 10, 16))
        data = await compute_bulletin(
            s,
            parse_period("2026-10"),
            today=date(2026, 11, 2),
            calendar=await load_calendar(s),
            tz=SHANGHAI,
        )
        bulletin = await freeze_bulletin(s, data, actor=Actor.system("test"), clock=clock)
        ids = {"item": item.id, "bulletin": bulletin.id}
    app = browser_app(sessions, clock)
    setup_bulletin_pages(app)
    async with serve(app) as base:
        yield base, ids


async def _shot(page: Any, name: str) -> None:
    if SHOTS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"documents-{name}.png"), full_page=True)


async def _print_and_download(
    page: Any,
    base: str,
    documents: list[tuple[str, int, str]],
    lang: str,
    who: str,
    *,
    printed: bool,
) -> None:
    """Each of ``documents`` (page, how many DOCX links, the first one's file name), if
    ``printed`` printed at 1366 px without the menu, then its links on a phone's screen, the
    first downloaded."""
    from playwright.async_api import expect

    # 1366 px, printed: the menu, the downloads and the forms are not on paper
    await page.set_viewport_size(LAPTOP)
    for url, _, _ in documents if printed else ():
        await page.goto(base + url)
        await expect(page.locator("nav.main")).to_be_visible()
        await expect(page.locator(".downloads")).to_be_visible()
        await page.emulate_media(media="print")
        for hidden in ("nav.main", "header.top", ".downloads"):
            await expect(page.locator(hidden)).to_be_hidden()
        for form in await page.locator("main form").all():
            await expect(form).to_be_hidden()
        await expect(page.locator("main h1")).to_be_visible()
        await expect(page.locator("main table").first).to_be_visible()
        await _shot(page, f"print-{lang}-{who}-{url.split('/')[1]}")
        await page.emulate_media(media="screen")
    # 390 px: the links are on the phone's screen and download the documents
    await page.set_viewport_size(PHONE)
    for url, count, wanted in documents:
        await page.goto(base + url)
        width = await page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= PHONE["width"], (url, lang, width)  # nothing sideways
        links = page.locator("a.doc")
        await expect(links).to_have_count(count)
        for link in await links.all():
            await expect(link).to_be_visible()
            box = await link.bounding_box()
            assert box is not None and box["x"] + box["width"] <= PHONE["width"]
        async with page.expect_download() as download_info:
            await links.first.click()
        download = await download_info.value
        assert download.suggested_filename == wanted
        await _shot(page, f"phone-{lang}-{who}-{url.split('/')[1]}")


async def test_print_and_phone_downloads(
    documents_server: tuple[str, dict[str, int]], chromium: Any
) -> None:
    from playwright.async_api import expect

    base, ids = documents_server
    item, bulletin = f"/items/{ids['item']}", f"/bulletins/{ids['bulletin']}"
    names = {
        "zh": ("督办单-督〔2026〕7号.docx", "督查通报-督查通报〔2026〕1号.docx"),
        "en": ("Supervision sheet-督〔2026〕7号.docx", "Bulletins-督查通报〔2026〕1号.docx"),
    }
    for who in ("admin", "sup", "liaison"):
        async with new_page(chromium, LAPTOP, locale="zh-CN", accept_downloads=True) as page:
            await login(page, base, f"{who}@example.gov.cn")
            if who == "liaison":  # the bulletin is the office's
                response = await page.goto(base + bulletin)
                assert response is not None and response.status == 403
            for lang in ("zh", "en"):
                if lang == "en":
                    await page.goto(base + "/lang/en?next=/")
                    await expect(page.locator("html")).to_have_attribute("lang", "en")
                sheet_name, bulletin_name = names[lang]
                documents = [(item, 2, sheet_name)]
                if who != "liaison":
                    documents.append((bulletin, 1, bulletin_name))
                # The supervisor's pages print as the admin's: their downloads only.
                printed = who != "sup"
                await _print_and_download(page, base, documents, lang, who, printed=printed)
