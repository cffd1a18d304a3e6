"""The items list in real Chromium at 1366 and 390 px, zh and en: sorting by a column, a
batch 催办 through its confirmation page as the admin; a supervisor's search by a person's
and a unit's name, the 台账 of that filter downloaded and a batch 延期 of it; and a unit's
view without batches.

Screenshots only with ``DUBAN_SCREENSHOTS=1``.
"""

from __future__ import annotations

import io
import os
import re
from datetime import date
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Assignment, Notification, Person, StepKind, Unit
from models.db import create_sessionmaker
from testing import factories as f
from tests.web.browser_support import ARTIFACTS, BROWSER, login, new_page, office_roles

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = BROWSER

WIDTHS = {"1366px": {"width": 1366, "height": 900}, "390px": {"width": 390, "height": 844}}
WORDS = {
    "zh": {
        "light": "灯号",
        "review": "下一步：确认",
        "confirm": "确认执行",
        "done": "批量操作已完成",
        "ledger": ["序号", "文号", "事项"],
    },
    "en": {
        "light": "Light",
        "review": "Next: confirm",
        "confirm": "Confirm",
        "done": "The batch action is done",
        "ledger": ["No.", "Reference", "Item"],
    },
}


async def _shot(page: Any, name: str) -> None:
    if os.environ.get("DUBAN_SCREENSHOTS") == "1":
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / f"items-{name}.png"), full_page=True)


async def _sort(page: Any, phone: bool, direction: str, word: str) -> None:
    """Order the list by light in ``direction``, as a person would at that width."""
    if phone:
        await page.select_option("#sort", "light")
        await page.select_option("#sort-dir", direction)
        await page.click("form.filters button[type=submit]")
    else:
        await page.click(f"thead a[data-sort=light]:has-text('{word}')")


async def _order(page: Any) -> list[str]:
    return await page.eval_on_selector_all(
        "table.items tbody tr", "(rows) => rows.map((r) => r.dataset.id)"
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("width", list(WIDTHS))
async def test_sort_and_batch_urge_as_office_and_a_unit_sees_no_batch(
    browser_server: tuple[str, dict[str, int]],
    browser_engine: AsyncEngine,
    chromium: Any,
    width: str,
    lang: str,
) -> None:
    from playwright.async_api import expect

    base, ids = browser_server
    sessions = create_sessionmaker(browser_engine)
    logins = await office_roles(browser_engine, ids["unit"])
    async with sessions() as s, s.begin():
        unit = await s.get_one(Unit, ids["unit"])
        owner = (await s.scalars(select(Person).where(Person.email == logins["unit"]))).one()
        late = await f.item(
            s, ref="督〔2026〕8号", title="逾期的督办事项", due_on=date(2026, 10, 29)
        )
        await f.assignment(s, item=late, unit=unit, owner=owner)
        other = await f.item(s, ref="督〔2026〕9号", title="别的单位的事项")
        moved = await f.assignment(s, item=other, unit=await f.unit(s, name="市财政局"))
        late_id, other_id, moved_id = late.id, other.id, moved.id
    words = WORDS[lang]
    phone = width == "390px"
    async with new_page(chromium, WIDTHS[width], locale="zh-CN") as page:
        await login(page, base, "admin@example.gov.cn", lang=lang, then="/items")
        # Sort by light, red first, then reversed: by the column name on a laptop, by the
        # filter form's order on a phone (the table is cards there, without a head).
        await _sort(page, phone, "asc", words["light"])
        await expect(page).to_have_url(re.compile(r"sort=light&dir=asc"))
        order = await _order(page)
        assert order[0] == str(late_id) and len(order) == 3
        days = page.locator(f"tr[data-id='{late_id}'] td.days")
        await expect(days).to_have_attribute("data-days", "-2")
        await expect(days).to_be_visible()
        await _sort(page, phone, "desc", words["light"])
        await expect(page).to_have_url(re.compile(r"sort=light&dir=desc"))
        assert (await _order(page))[-1] == str(late_id)
        await _shot(page, f"{width}-{lang}-sorted")
        # Batch 催办: tick the late item, review, confirm.
        await page.check(f"input[name=ids][value='{late_id}']")
        await page.select_option("#batch-action", "urge")
        await page.click(f"#batch-review:has-text('{words['review']}')")
        await expect(page.locator("table.batch tr.ok")).to_have_count(1)
        await expect(page.locator("table.batch")).to_contain_text("李责任")
        await _shot(page, f"{width}-{lang}-confirm")
        await page.click(f"#batch-confirm:has-text('{words['confirm']}')")
        await expect(page).to_have_url(
            re.compile(r"/items\?(page=1&)?sort=light&dir=desc&msg=flash.batch_done$")
        )
        await expect(page.locator("body")).to_contain_text(words["done"])
        async with sessions() as s:
            urged = await s.scalars(
                select(Notification.item_id).where(Notification.kind == StepKind.URGE)
            )
            assert set(urged.all()) == {late_id}
    # A supervisor: a search by a person's name and by a unit's, the 台账 of that filter,
    # and a batch 延期 of what it found.
    async with new_page(chromium, WIDTHS[width], locale="zh-CN", accept_downloads=True) as page:
        await login(page, base, logins["supervisor"], lang=lang, then="/items")
        for text, found in (("李责任", {late_id, ids["item"]}), ("市财政局", {other_id})):
            await page.fill("form.filters input[name=q]", text)
            await page.click("form.filters button[type=submit]")
            await expect(page.locator("table.items tbody tr")).to_have_count(len(found))
            assert set(await _order(page)) == {str(i) for i in found}
        async with page.expect_download() as download_info:
            await page.click("#ledger")
        download = await download_info.value
        book = load_workbook(io.BytesIO((await download.path()).read_bytes()), read_only=True)
        sheet = [list(row) for row in book.active.iter_rows(values_only=True)]
        assert sheet[0][:3] == words["ledger"] and len(sheet[0]) == 12
        assert [row[1] for row in sheet[1:]] == ["督〔2026〕9号"]
        await page.check(f"input[name=ids][value='{other_id}']")
        await page.select_option("#batch-action", "extend")
        await page.fill("#batch-form input[name=reason]", "汛期施工顺延")
        await page.fill("#batch-form input[name=due_on]", "2026-12-31")
        await page.click("#batch-review")
        await expect(page.locator("table.batch tr.ok")).to_have_count(1)
        await expect(page.locator("table.batch")).to_contain_text("2026-12-31")
        await page.click("#batch-confirm")
        await expect(page.locator("body")).to_contain_text(words["done"])
        async with sessions() as s:
            assert (await s.get_one(Assignment, moved_id)).due_on == date(2026, 12, 31)
    # A unit's liaison: their items only, sortable, and no batch controls.
    async with new_page(chromium, WIDTHS[width], locale="zh-CN") as unit_page:
        await login(unit_page, base, logins["unit"], lang=lang, then="/items")
        await expect(unit_page.locator("#batch-form")).to_have_count(0)
        await expect(unit_page.locator("input[name=ids]")).to_have_count(0)
        await _sort(unit_page, phone, "asc", words["light"])
        await expect(unit_page).to_have_url(re.compile(r"sort=light&dir=asc"))
        assert (await _order(unit_page))[0] == str(late_id)
        assert len(await _order(unit_page)) == 2  # not the other unit's item
        await _shot(unit_page, f"{width}-{lang}-unit")
