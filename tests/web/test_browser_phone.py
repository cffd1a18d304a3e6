"""Duban on a phone (390 px) and on a laptop (1366 px), and printed: real Chromium.

Leaders read Duban on phones. On every page checked (each loaded once and laid out at both
widths) the menu folds behind its button at 390 px (and opens with it, no script), tables
keep readable columns (every th/td at least 40 px wide, the table scrolling sideways inside
itself rather than the page), the page never overflows sideways, and forms run in one
column; for the admin, a supervisor and a unit's liaison, each on the pages of their menu.
Printing hides the menu. With ``DUBAN_SCREENSHOTS=1`` screenshots go to
``test-artifacts/browser/``.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.web.browser_support import (
    ADMIN,
    BROWSER,
    LAPTOP,
    PHONE,
    login,
    new_page,
    office_roles,
    screenshot,
)

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = BROWSER

MIN_CELL = 40  # px: narrower than this a Chinese column shows one character per line

#: Layout facts of the current page, measured in the browser.
MEASURE = """() => {
  // A closed <details> keeps its content's boxes (content-visibility), but shows none of it.
  const visible = (e) => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && e.closest('details:not([open])') === null;
  };
  const scrolls = (e) => {
    for (let n = e; n && n !== document.body; n = n.parentElement) {
      const o = getComputedStyle(n).overflowX;
      if ((o === 'auto' || o === 'scroll') && n.clientWidth <= window.innerWidth) return true;
    }
    return false;
  };
  const tables = [...document.querySelectorAll('main table')].filter(visible).map((t) => ({
    cls: t.className,
    narrowest: Math.min(...[...t.querySelectorAll('th, td')].filter(visible)
      .map((c) => c.getBoundingClientRect().width)),
    scrolls: scrolls(t),
    right: t.getBoundingClientRect().right,
  }));
  const controls = [...document.querySelectorAll(
    'main form input:not([type=hidden]):not([type=checkbox]):not([type=radio]),'
    + ' main form select, main form textarea'
  )].filter(visible).map((e) => e.getBoundingClientRect());
  let sideBySide = 0;
  for (let i = 0; i < controls.length; i++) for (let j = i + 1; j < controls.length; j++) {
    const a = controls[i], b = controls[j];
    if (a.top < b.bottom - 1 && b.top < a.bottom - 1) sideBySide++;
  }
  const nav = document.querySelector('nav.main');
  return {
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    tables,
    sideBySide,
    navVisible: nav !== null && visible(nav),
    headerHeight: document.querySelector('header.top').getBoundingClientRect().height,
    menuButton: visible(document.querySelector('.menu-button')),
  };
}"""


def _pages(ids: dict[str, int]) -> dict[str, str]:
    return {
        "dashboard": "/",
        "items": "/items",
        "item": f"/items/{ids['item']}",
        "reviews": "/reviews",
        "new-item": "/items/new",
    }


async def _fits(page: Any, viewport: dict[str, int], where: str) -> int:
    """The page as laid out at ``viewport``'s width fits it; the number of tables checked."""
    await page.set_viewport_size(viewport)
    facts = await page.evaluate(MEASURE)
    where = f"{where} at {viewport['width']} px"
    assert facts["scrollWidth"] <= facts["innerWidth"], (where, facts)
    for table in facts["tables"]:
        assert table["narrowest"] >= MIN_CELL, (where, table)
        assert table["scrolls"] or table["right"] <= facts["innerWidth"], (where, table)
    if viewport is PHONE:
        assert facts["sideBySide"] == 0, (where, facts)
        # The menu is folded: the first screen is the page, not the menu.
        assert not facts["navVisible"] and facts["menuButton"], (where, facts)
        assert facts["headerHeight"] < 120, (where, facts)
    else:
        assert facts["navVisible"] and not facts["menuButton"], (where, facts)
    return len(facts["tables"])


async def _fit_every_page(
    page: Any, base: str, pages: dict[str, str], lang: str, who: str, *, menu: bool = True
) -> tuple[int, dict[int, int]]:
    """Each of ``pages`` (url: name), and with ``menu`` each of the menu's, loaded once and
    laid out at both widths (a resize applies the media queries as a load at that width
    does; the pages' layout needs no script); how many pages, and the tables checked per
    width."""
    from playwright.async_api import expect

    await expect(page.locator("html")).to_have_attribute("lang", re.compile(f"^{lang}"))
    if menu:
        menu_urls = await page.eval_on_selector_all(
            "nav.main a", "(links) => links.map((a) => a.getAttribute('href'))"
        )
        # Each page once: the menu repeats some of the main ones.
        pages = pages | {
            url: f"menu{url.replace('/', '-')}" for url in menu_urls if url not in pages
        }
    checked_tables = {PHONE["width"]: 0, LAPTOP["width"]: 0}
    for url, name in pages.items():
        if page.url != base + url:  # the dashboard is open already after the login
            await page.goto(base + url)
        for viewport in (PHONE, LAPTOP):
            checked_tables[viewport["width"]] += await _fits(page, viewport, name)
            shot = f"fit-{viewport['width']}-{lang}-{who}-{name}.png"
            await screenshot(page, shot, full_page=True)
    return len(pages), checked_tables


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_every_page_fits_the_screen(
    browser_server: tuple[str, dict[str, int]],
    browser_engine: AsyncEngine,
    chromium: Any,
    lang: str,
) -> None:
    """Every page of the admin's menu (all of them; in English too: longer labels, the
    layout must hold) at both widths; a supervisor's and a unit liaison's pages where what
    they see differs (their menu, the dashboard's rows, the item page's forms)."""
    from playwright.async_api import expect

    base, ids = browser_server
    logins = await office_roles(browser_engine, ids["unit"])
    for role in ("supervisor", "unit"):
        async with new_page(chromium, PHONE, locale="zh-CN") as page:
            await login(page, base, logins[role], lang=lang)
            pages = {"/": "dashboard", "/items": "items", f"/items/{ids['item']}": "item"}
            _, checked = await _fit_every_page(page, base, pages, lang, role, menu=False)
            # the dashboard's units, the items, the item's assignments and extensions
            assert min(checked.values()) >= 4, (role, checked)
    async with new_page(chromium, PHONE, locale="zh-CN") as page:
        await login(page, base, ADMIN, lang=lang)
        pages = {url: name for name, url in _pages(ids).items()}
        count, checked_tables = await _fit_every_page(page, base, pages, lang, "admin")
        assert count > 10, count
        # items, assignments, extensions, dashboard units
        assert min(checked_tables.values()) >= 4, checked_tables
        # The review list is one card per request on a phone: the decision buttons are
        # on the screen, not at the far end of a sideways scroll.
        await page.goto(base + "/reviews")
        buttons = page.locator(f"#extension-{ids['extension']} button[name=decision]")
        assert await buttons.count() == 2
        for viewport in (PHONE, LAPTOP):
            await page.set_viewport_size(viewport)
            for button in await buttons.all():
                # Where it lies with nothing scrolled sideways (what the eye meets first).
                right = await button.evaluate(
                    """(el) => {
                      for (let n = el; n; n = n.parentElement) n.scrollLeft = 0;
                      return el.getBoundingClientRect().right;
                    }"""
                )
                assert right <= viewport["width"], (viewport, right)
        # On a phone the menu button opens the menu (no script: a checkbox and its label).
        await page.set_viewport_size(PHONE)
        await page.goto(base + "/items")
        await page.click(".menu-button")
        menu = page.locator("nav.main")
        await expect(menu).to_be_visible()
        await expect(menu.locator("a[href='/reviews']")).to_be_visible()
        assert (await page.evaluate(MEASURE))["scrollWidth"] <= PHONE["width"]
        await screenshot(page, f"fit-390-{lang}-menu-open.png")
        await menu.locator("a[href='/reviews']").click()
        await page.wait_for_url(base + "/reviews")
        await expect(page.locator("nav.main")).to_be_hidden()


async def test_print_hides_the_menu(
    browser_server: tuple[str, dict[str, int]], chromium: Any
) -> None:
    from playwright.async_api import expect

    base, ids = browser_server
    async with new_page(chromium, LAPTOP, locale="zh-CN") as page:
        await login(page, base, ADMIN)
        for url in ("/", f"/items/{ids['item']}", "/items"):
            await page.goto(base + url)
            await expect(page.locator("nav.main")).to_be_visible()
            await page.emulate_media(media="print")
            await expect(page.locator("nav.main")).to_be_hidden()
            await expect(page.locator("header.top")).to_be_hidden()
            await expect(page.locator("form.filters")).to_have_count(
                await page.locator("form.filters").count()
            )
            for form in await page.locator("form.filters").all():
                await expect(form).to_be_hidden()
            await expect(page.locator("main h1")).to_be_visible()
            await page.emulate_media(media="screen")
            await expect(page.locator("nav.main")).to_be_visible()
