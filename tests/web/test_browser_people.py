"""The people roster and group robots in real Chromium, at 1366 and 390 px, in zh and en.

The admin finds a person by pinyin initials beside the unit tree, sees who is bound to
Telegram, invites them, sets up a Feishu robot (signed) against fake robots on loopback and
sends its test message; a supervisor and a unit's liaison are refused the people and robot
pages and never see them in the menu. Screenshots only with
``DUBAN_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Role
from models.db import create_sessionmaker
from supervision.accounts import hash_password
from supervision.clock import FixedClock
from testing import factories as f
from testing.fakes.robots import FakeRobots
from tests.web.browser_support import ARTIFACTS, BROWSER, browser_app, login, new_page, serve
from tests.web.conftest import PASSWORD, SECRET
from web.app import WebConfig

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = BROWSER

WIDTHS = {"1366": {"width": 1366, "height": 900}, "390": {"width": 390, "height": 844}}
WORDS = {
    "zh": {"invited": "已邀请", "bound": "已绑定", "accepted": "机器人已接收",
           "forbidden": "无权访问"},
    "en": {"invited": "Invited, valid until", "bound": "Bound",
           "accepted": "The robot accepted it", "forbidden": "Not allowed"},
}  # fmt: skip


@pytest_asyncio.fixture(loop_scope="session")
async def office(
    browser_engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[tuple[str, FakeRobots]]:
    """The real app on a free loopback port, fake robots beside it, and a small office."""
    sessions = create_sessionmaker(browser_engine)
    async with sessions() as s, s.begin():
        gov = await f.unit(s, code="GOV", name="市政府")
        nj = await f.unit(s, code="GOV-1", name="市发展改革委", parent=gov)
        admin = await f.person(s, name="王管理", email="admin@example.gov.cn", roles={Role.ADMIN})
        liaison = await f.person(
            s, name="李联络", email="liaison@example.gov.cn", unit=nj, roles={Role.LIAISON}
        )
        supervisor = await f.person(
            s, name="赵督查", email="sup@example.gov.cn", roles={Role.SUPERVISOR}
        )
        for person in (admin, liaison, supervisor):
            person.password_hash = hash_password(PASSWORD)
        for name in ("张三", "安娜"):
            await f.person(s, name=name, unit=nj)
        await f.person(s, name="赵六", unit=nj, telegram_user_id=7001)
    async with FakeRobots(clock=clock) as robots:
        config = WebConfig(secret_key=SECRET, robot_hosts=(robots.host,))
        async with serve(browser_app(sessions, clock, config=config)) as base:
            yield base, robots


async def _shot(page: Any, name: str) -> None:
    if os.environ.get("DUBAN_SCREENSHOTS") == "1":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def _fits(page: Any) -> None:
    width = await page.evaluate("() => document.scrollingElement.scrollWidth - innerWidth")
    assert width <= 0, f"the page scrolls sideways by {width} px"


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", ["1366", "390"])
async def test_roster_and_robots_for_the_admin_refused_to_the_others(
    office: tuple[str, FakeRobots], chromium: Any, width: str, lang: str
) -> None:
    from playwright.async_api import expect

    base, robots = office
    words = WORDS[lang]
    async with new_page(chromium, WIDTHS[width]) as page:
        # The roster: the unit tree folds, a search by initials, an invite from the list.
        await login(page, base, "admin@example.gov.cn", lang=lang, then="/people")
        tree = page.locator("nav.unit-tree")
        await expect(tree.get_by_role("link", name="市发展改革委")).to_be_visible()
        bound = page.locator("table.people tbody tr", has_text="赵六").locator("td.bound")
        await expect(bound).to_contain_text(words["bound"])
        await expect(bound.locator("button")).to_have_count(0)  # nothing to invite them to
        await tree.locator("summary").first.click()  # fold 市政府
        await expect(tree.get_by_role("link", name="市发展改革委")).to_be_hidden()
        await page.fill("input[name=q]", "zs")
        await page.locator("form.search button").click()
        rows = page.locator("table.people tbody tr")
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_contain_text("张三")
        await _fits(page)
        await rows.first.locator("form button").click()
        await expect(page.locator("#invite-link")).to_be_visible()
        await page.goto(base + "/people?q=zs")
        await expect(page.locator("table.people tbody tr").first).to_contain_text(words["invited"])
        await _shot(page, f"people-{width}-{lang}")
        # A Feishu robot, signed; the secret never comes back; its test message goes out.
        url = robots.add("feishu", secret="feishuSecret42")
        await page.goto(base + "/robots/new")
        await page.fill("input[name=name]", "发改委工作群")
        await page.select_option("select[name=kind]", "feishu")
        await page.select_option("select[name=owner]", label="市发展改革委 (GOV-1)")
        await page.fill("input[name=url]", url)
        await page.fill("input[name=secret]", "feishuSecret42")
        await page.locator("form.robot-form button[type=submit]").click()
        await page.wait_for_url(f"{base}/robots?msg=flash.saved*")
        row = page.locator("table.robots tbody tr").first
        await expect(row).to_contain_text("/open-apis/bot/v2/hook/***")
        assert "feishuSecret42" not in await page.content()
        assert url.rsplit("/", 1)[1] not in await page.content()
        await _fits(page)
        await row.locator("form[action$='/test'] button").click()
        await expect(page.locator("#robot-answer")).to_contain_text(words["accepted"])
        await expect(page.locator("#robot-answer")).to_contain_text("code 0")
        assert robots.received and "发改委工作群" in repr(robots.received[-1].body)
        await _shot(page, f"robots-{width}-{lang}")
        # A supervisor and a unit's liaison: neither page in the menu, both refused.
        for email in ("sup@example.gov.cn", "liaison@example.gov.cn"):
            await page.context.clear_cookies()
            await login(page, base, email, lang=lang)
            for url in ("/robots", "/people"):
                assert await page.locator(f"nav.main a[href='{url}']").count() == 0
                response = await page.goto(base + url)
                assert response is not None and response.status == 403, (email, url)
                await expect(page.locator("main")).to_contain_text(words["forbidden"])
