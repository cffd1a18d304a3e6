"""A real browser walk through the admin: headless Chromium (Debian package) via Playwright.

Serves the real app on 127.0.0.1 (a free port) on SQLite, then logs in, creates an item,
edits a template and watches the preview change, approves an extension and opens the
dashboard. Then issue #13's correctness points at 1366 and 390 px, in zh and en, as the
admin, a supervisor and the unit's liaison: a review decided by a click only, and an owner
from another unit refused. The browser, the server (``browser_server``) and screenshots:
``tests.web.browser_fixtures`` and ``tests.web.browser_support``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Extension, Item, Person, ReviewState, Unit
from models.db import create_sessionmaker
from supervision.clock import FixedClock
from testing import SHANGHAI
from testing import factories as f
from tests.web.browser_support import (
    BROWSER,
    LAPTOP,
    PHONE,
    login,
    new_page,
    office_roles,
    screenshot,
)
from tests.web.conftest import PASSWORD

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = BROWSER


async def test_browser_walk(
    browser_server: tuple[str, dict[str, int]], browser_engine: AsyncEngine, chromium: Any
) -> None:
    from playwright.async_api import expect

    base, ids = browser_server
    viewport = {"width": 1280, "height": 900}
    async with new_page(chromium, viewport, locale="zh-CN") as page:
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
        await expect(page.locator("#source-lines li.line-error")).to_have_text("{{ item.nope }}")
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
        async with create_sessionmaker(browser_engine)() as s:
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

    sessions = create_sessionmaker(browser_engine)
    async with sessions() as s:
        ext = await s.get_one(Extension, ids["extension"])
        assert ext.state == ReviewState.APPROVED and ext.comment == "同意延期"
        assert await s.scalar(select(Item.id).where(Item.ref == "督〔2026〕88号"))


#: who decides, by role (``browser_server``'s admin; `office_roles`' supervisor)
REVIEWERS = {"admin": "王管理", "supervisor": "赵督查"}
#: what each language calls the decision's parts and its refusals
DECISION_WORDS = {
    "zh": {
        "approve": "同意延期至 2027-01-29",
        "reject": "退回：请填写理由",
        "reason": "退回须填写理由",
        "extended": "（原定 2026-12-14，已延期）",
        "refused": "无权访问",
        "approved": "同意了延期申请",
    },
    "en": {
        "approve": "Approve: extend to 2027-01-29",
        "reject": "Reject (give a reason)",
        "reason": "A rejection needs a reason",
        "extended": "(originally 2026-12-14; extended)",
        "refused": "Not allowed",
        "approved": "approved the extension",
    },
}


@pytest.mark.parametrize(
    ("viewport", "lang", "role"),
    [
        (LAPTOP, "zh", "supervisor"),
        (LAPTOP, "en", "admin"),
        (PHONE, "zh", "admin"),
        (PHONE, "en", "supervisor"),
    ],
    ids=["1366px-zh-supervisor", "1366px-en-admin", "390px-zh-admin", "390px-en-supervisor"],
)
async def test_a_decision_is_a_click_that_says_what_it_does(
    browser_server: tuple[str, dict[str, int]],
    browser_engine: AsyncEngine,
    chromium: Any,
    clock: FixedClock,
    viewport: dict[str, int],
    lang: str,
    role: str,
) -> None:
    """Enter decides nothing, 退回 without a reason changes nothing, the buttons say what
    each does; once approved, the unit's liaison sees the new deadline in the item's header
    and a light that follows it, and the history who decided, and may not decide."""
    from playwright.async_api import expect

    base, ids = browser_server
    words = DECISION_WORDS[lang]
    logins = await office_roles(browser_engine, ids["unit"])
    sessions = create_sessionmaker(browser_engine)

    async def pending() -> None:
        async with sessions() as s:
            ext = await s.get_one(Extension, ids["extension"])
            assert ext.state == ReviewState.PENDING and ext.comment is None

    async with new_page(chromium, viewport) as page:
        await login(page, base, logins[role], lang=lang, then="/reviews")
        row = page.locator(f"#extension-{ids['extension']}")
        await expect(row.locator("button[value=approve]")).to_have_text(words["approve"])
        await expect(row.locator("button[value=reject]")).to_have_text(words["reject"])
        # A reason typed and Enter pressed: a new line, no decision.
        comment = row.locator("textarea[name=comment]")
        await comment.fill("理由不足")
        await comment.press("Enter")
        await expect(comment).to_have_value("理由不足\n")
        await expect(page).to_have_url(base + "/reviews")
        await expect(page.locator(".flash")).to_have_count(0)
        await pending()
        # 退回 without a reason: refused in the reader's language, nothing changed.
        await comment.fill("")
        async with page.expect_navigation():
            await row.locator("button[value=reject]").click()
        await expect(page.locator(".errors")).to_contain_text(words["reason"])
        await pending()
        # Approve: done, and the request leaves the queue.
        row = page.locator(f"#extension-{ids['extension']}")
        await row.locator("textarea[name=comment]").fill("同意")
        async with page.expect_navigation():
            await row.locator("button[value=approve]").click()
        await expect(page.locator(".flash")).to_be_visible()
        await expect(page.locator(f"#extension-{ids['extension']}")).to_have_count(0)

    # Past the old deadline, before the new one: the header and the light both use the new.
    clock.set(datetime(2026, 12, 21, 9, 0, tzinfo=SHANGHAI))
    async with new_page(chromium, viewport) as page:
        await login(page, base, logins["unit"], lang=lang, then=f"/items/{ids['item']}")
        await expect(page.locator("b.due")).to_have_text("2027-01-29")
        await expect(page.locator("main")).to_contain_text(words["extended"])
        await expect(page.locator("h1 .light")).not_to_have_class("light red")
        await expect(page.locator("form.decide")).to_have_count(0)
        # The history says who decided, in words.
        decided = page.locator("ol.timeline li", has_text=words["approved"])
        await expect(decided).to_contain_text(REVIEWERS[role])
        response = await page.goto(base + "/reviews")
        assert response is not None and response.status == 403
        await expect(page.locator("h1")).to_have_text(words["refused"])


#: the refusal of an owner from outside the lead unit, in each language
OUTSIDE_LEAD = {
    "zh": "周财政不是主办单位「市发展改革委」的人员",
    "en": "周财政 is not a member of the lead unit “市发展改革委”",
}


@pytest.mark.parametrize(
    ("viewport", "lang", "role"),
    [
        (LAPTOP, "zh", "admin"),
        (LAPTOP, "en", "supervisor"),
        (PHONE, "zh", "supervisor"),
        (PHONE, "en", "admin"),
    ],
    ids=["1366px-zh-admin", "1366px-en-supervisor", "390px-zh-supervisor", "390px-en-admin"],
)
async def test_an_owner_from_another_unit_is_refused(
    browser_server: tuple[str, dict[str, int]],
    browser_engine: AsyncEngine,
    chromium: Any,
    viewport: dict[str, int],
    lang: str,
    role: str,
) -> None:
    """The owner list names everyone; one outside the lead unit is refused in the reader's
    language and nothing is created; the unit's own person is taken. A unit role may not
    open the form."""
    from playwright.async_api import expect

    base, ids = browser_server
    logins = await office_roles(browser_engine, ids["unit"])
    sessions = create_sessionmaker(browser_engine)
    async with sessions() as s, s.begin():
        other = await f.person(s, name="周财政", unit=await f.unit(s, code="B", name="市财政局"))
        unit = await s.get_one(Unit, ids["unit"])
        own = await s.scalar(select(Person.id).where(Person.email == logins["unit"]))
        outsider, lead_unit = other.id, unit.id
    assert own is not None

    async with new_page(chromium, viewport) as page:
        await login(page, base, logins[role], lang=lang, then="/items/new")
        await page.fill("input[name=ref]", "督〔2026〕90号")
        await page.fill("input[name=title]", "整治背街小巷")
        await page.select_option("select[name=source]", "document")
        await page.fill("input[name=received_on]", "2026-11-02")
        await page.select_option("select[name=lead_unit]", str(lead_unit))
        await page.select_option("select[name=owner]", str(outsider))
        async with page.expect_navigation():
            await page.click("form.item-form button[type=submit]")
        await expect(page.locator(".errors")).to_contain_text(OUTSIDE_LEAD[lang])
        async with sessions() as s:
            assert await s.scalar(select(Item.id).where(Item.ref == "督〔2026〕90号")) is None
        # What was typed is kept; the unit's own person is accepted.
        await expect(page.locator("input[name=title]")).to_have_value("整治背街小巷")
        await page.select_option("select[name=owner]", str(own))
        async with page.expect_navigation():
            await page.click("form.item-form button[type=submit]")
        await expect(page.locator("h1")).to_contain_text("整治背街小巷")

    async with new_page(chromium, viewport) as page:
        await login(page, base, logins["unit"], lang=lang)
        response = await page.goto(base + "/items/new")
        assert response is not None and response.status == 403
