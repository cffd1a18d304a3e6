"""The items list in real Chromium at 1366 and 390 px, zh and en: sorting by a column, a
batch 催办 through its confirmation page as the office, and a unit's view without batches.

Screenshots only with ``DUBAN_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import re
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Notification, Person, StepKind, Unit
from models.db import create_sessionmaker
from supervision.accounts import hash_password
from testing import factories as f
from tests.web.browser_support import ARTIFACTS, BROWSER, login, new_page
from tests.web.conftest import PASSWORD

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = BROWSER

WIDTHS = {"1366px": {"width": 1366, "height": 900}, "390px": {"width": 390, "height": 844}}
WORDS = {
    "zh": {
        "light": "灯号",
        "review": "下一步：确认",
        "confirm": "确认执行",
        "done": "批量操作已完成",
    },
    "en": {
        "light": "Light",
        "review": "Next: confirm",
        "confirm": "Confirm",
        "done": "The batch action is done",
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
    async with sessions() as s, s.begin():
        unit = await s.get_one(Unit, ids["unit"])
        owner = (await s.scalars(select(Person).where(Person.name == "李责任"))).one()
        owner.password_hash = hash_password(PASSWORD)
        late = await f.item(
            s, ref="督〔2026〕8号", title="逾期的督办事项", due_on=date(2026, 10, 29)
        )
        await f.assignment(s, item=late, unit=unit, owner=owner)
        other = await f.item(s, ref="督〔2026〕9号", title="别的单位的事项")
        await f.assignment(s, item=other, unit=await f.unit(s, name="市财政局"))
        owner_email, late_id = owner.email, late.id
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
    # A unit's liaison: their items only, sortable, and no batch controls.
    async with new_page(chromium, WIDTHS[width], locale="zh-CN") as unit_page:
        await login(unit_page, base, owner_email, lang=lang, then="/items")
        await expect(unit_page.locator("#batch-form")).to_have_count(0)
        await expect(unit_page.locator("input[name=ids]")).to_have_count(0)
        await _sort(unit_page, phone, "asc", words["light"])
        await expect(unit_page).to_have_url(re.compile(r"sort=light&dir=asc"))
        assert (await _order(unit_page))[0] == str(late_id)
        assert len(await _order(unit_page)) == 2  # not the other unit's item
        await _shot(unit_page, f"{width}-{lang}-unit")
