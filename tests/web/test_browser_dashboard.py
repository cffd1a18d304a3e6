"""The supervisor's dashboard in real Chromium: 1366 and 390 px, Chinese and English, as an
admin, a supervisor and a unit role (a liaison of one unit).

One office and one server for the module, on the process's one browser. Each case logs the
three people in and checks what differs between them: the matrix's rows (a unit role: its
unit only), the reviews badge (reviewers only; on a phone on the folded menu's button), a
matrix count followed to the items list it names, the 0 % bar drawn, the overdue list's
working days late, and that the page fits the screen. With ``DUBAN_SCREENSHOTS=1`` the 1366
px Chinese supervisor's view is saved as ``docs/screenshots/dashboard.png`` (the README shows
it).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AssignmentRole,
    Extension,
    ItemState,
    Report,
    ReportKind,
    ReviewState,
    Role,
)
from models.db import create_engine, create_sessionmaker
from supervision.accounts import hash_password
from supervision.clock import FixedClock
from testing import SHANGHAI
from testing import factories as f
from testing.databases import empty_tables
from tests.web.browser_support import BROWSER, LAPTOP, PHONE, browser_app, login, new_page, serve
from tests.web.conftest import PASSWORD

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = [*BROWSER, pytest.mark.xdist_group("browser_dashboard")]

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "dashboard.png"
EMAILS = {
    "admin": "admin@example.gov.cn",
    "supervisor": "sup@example.gov.cn",
    "unit": "liaison@example.gov.cn",
}


async def _office(s: AsyncSession) -> dict[str, int]:
    """Three bureaus: the development commission has a red item, two yellow and a green
    one; housing two red ones (one with the commission as co unit) and a green one; ecology
    closed its November item on time (100 %). Two requests wait for the office."""
    ndrc = await f.unit(s, code="FGW", name="市发展改革委")
    housing = await f.unit(s, code="ZJJ", name="市住房城乡建设局")
    ecology = await f.unit(s, code="STJ", name="市生态环境局")
    hashed = hash_password(PASSWORD)
    for name, email, roles, unit in (
        ("王管理", EMAILS["admin"], {Role.ADMIN}, None),
        ("赵督查", EMAILS["supervisor"], {Role.SUPERVISOR}, None),
        ("李联络", EMAILS["unit"], {Role.LIAISON}, ndrc),
    ):
        person = await f.person(s, name=name, email=email, roles=roles, unit=unit)
        person.password_hash = hashed
    owner = await f.person(s, name="陈责任", unit=ndrc)
    rows = (
        ("督〔2026〕11号", "推进老旧小区改造", ndrc, date(2026, 10, 28)),
        ("督〔2026〕12号", "优化营商环境专项行动", ndrc, date(2026, 11, 4)),
        ("督〔2026〕13号", "重点项目开工建设", ndrc, date(2026, 12, 14)),
        ("督〔2026〕14号", "城乡规划编制", ndrc, date(2026, 12, 21)),
        ("督〔2026〕21号", "保障性住房建设", housing, date(2026, 10, 23)),
        ("督〔2026〕22号", "城市排水防涝", housing, date(2026, 10, 30)),
        ("督〔2026〕23号", "物业服务质量提升", housing, date(2026, 12, 30)),
    )
    ids: dict[str, int] = {}
    for ref, title, unit, due in rows:
        item = await f.item(s, ref=ref, title=title, received_on=date(2026, 9, 1), due_on=due)
        first = await f.assignment(s, item=item, unit=unit, owner=owner if unit is ndrc else None)
        ids.setdefault(unit.code, unit.id)
        if ref == "督〔2026〕22号":
            await f.assignment(s, item=item, unit=ndrc, role=AssignmentRole.CO)
        if ref == "督〔2026〕13号":
            ids["waiting"] = first.id
        if ref in ("督〔2026〕14号", "督〔2026〕23号"):  # reported lately: green
            first.last_report_at = datetime(2026, 10, 30, 3, 0, tzinfo=UTC)
    done = await f.item(s, ref="督〔2026〕31号", title="大气污染防治", due_on=date(2026, 11, 20))
    closed = await f.assignment(s, item=done, unit=ecology)
    done.state = closed.state = ItemState.CLOSED
    closed.closed_at = datetime(2026, 11, 2, 0, 30, tzinfo=UTC)
    completed = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
    s.add(
        Report(
            assignment_id=closed.id,
            kind=ReportKind.COMPLETION,
            text="已完成整治任务",
            review_state=ReviewState.APPROVED,
            created_at=completed,
        )
    )
    waiting = ids.pop("waiting")
    s.add(
        Report(
            assignment_id=waiting,
            kind=ReportKind.COMPLETION,
            text="项目已全部开工",
            review_state=ReviewState.PENDING,
            created_at=completed,
        )
    )
    s.add(
        Extension(
            assignment_id=waiting,
            reason="需与住建部门协调",
            old_due_on=date(2026, 12, 14),
            new_due_on=date(2027, 1, 29),
            created_at=completed,
        )
    )
    return ids


@pytest.fixture(scope="module")
def office_url(sqlite_url: str) -> str:
    """The module's database (resolved outside the event loop)."""
    return sqlite_url


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def site(office_url: str) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """The real app on a free loopback port over the office, built once for the module."""
    engine = create_engine(office_url)
    await empty_tables(engine)
    sessions = create_sessionmaker(engine)
    async with sessions() as s, s.begin():
        ids = await _office(s)
    clock = FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))  # a Monday
    try:
        async with serve(browser_app(sessions, clock)) as base:
            yield base, ids
    finally:
        await empty_tables(engine)
        await engine.dispose()


async def _check(
    page: Any, units: dict[str, int], role: str, viewport: dict[str, int], lang: str
) -> None:
    """What the dashboard shows ``role`` at ``viewport``'s width."""
    from playwright.async_api import expect

    phone = viewport is PHONE
    words = {
        "zh": ("督办总览", "红灯", "逾期工作日"),
        "en": ("Dashboard", "Red", "Working days late"),
    }[lang]
    await expect(page.locator("h1")).to_have_text(words[0])
    await expect(page.locator("table.matrix thead")).to_contain_text(words[1])
    await expect(page.locator("table.overdue thead")).to_contain_text(words[2])

    # The matrix: a unit role sees its unit only; the office every unit with open
    # work, most red first (a tie of two red: then the more yellow).
    rows = page.locator("table.matrix tbody tr")
    if role == "unit":
        await expect(rows).to_have_count(1)
        await expect(rows.first).to_have_attribute("data-unit", str(units["FGW"]))
    else:
        await expect(rows).to_have_count(2)  # ecology has nothing open
        await expect(rows.first).to_have_attribute("data-unit", str(units["FGW"]))
        await expect(rows.nth(1)).to_have_attribute("data-unit", str(units["ZJJ"]))

    # The badge: two requests wait for reviewers; a unit role decides none.
    badges = page.locator(".menu-button .badge" if phone else "nav.main .badge")
    if role == "unit":
        await expect(page.locator(".badge")).to_have_count(0)
    else:
        await expect(badges).to_have_text("2")
        await expect(badges).to_be_visible()

    # The overdue list, longest overdue first, with working days late; the 0 % bar.
    days = page.locator("table.overdue td.days-late")
    expected = ["3", "1"] if role == "unit" else ["6", "3", "1"]
    await expect(days).to_have_text(expected)
    zero = page.locator('svg.chart rect.bar[data-rate="0%"]').first
    assert (await zero.bounding_box() or {}).get("width", 0) > 0
    await expect(page.locator("svg.chart text", has_text="0%").first).to_be_visible()
    if role != "unit":
        await expect(page.locator("svg.chart text", has_text="100%")).to_be_visible()

    fits = await page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
    assert fits, (role, viewport)
    wanted = (os.environ.get("DUBAN_SCREENSHOTS") == "1", phone, lang, role)
    if wanted == (True, False, "zh", "supervisor"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOT), full_page=True)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_the_dashboard_for_each_role(
    site: tuple[str, dict[str, int]], chromium: Any, lang: str
) -> None:
    """Each person logs in once per language; their dashboard is checked and a matrix count
    followed to its list at 1366 px, then the same at 390 px."""
    from playwright.async_api import expect

    base, units = site
    for role, email in EMAILS.items():
        async with new_page(chromium, LAPTOP, locale="zh-CN") as page:
            await login(page, base, email, lang=lang)
            for viewport in (LAPTOP, PHONE):
                await page.set_viewport_size(viewport)
                if page.url != base + "/":  # back from the list the count named
                    await page.goto(base + "/")
                await _check(page, units, role, viewport, lang)
                # A count is the list it names: the unit's red items, as many as it said.
                cell = page.locator(f'tr[data-unit="{units["FGW"]}"] a[data-light="red"]')
                shown = int(await cell.inner_text())
                await cell.click()
                await page.wait_for_url(f"{base}/items?unit={units['FGW']}&light=red")
                await expect(page.locator("table.items tbody tr")).to_have_count(shown)
