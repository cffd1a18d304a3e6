"""Helpers of the browser tests: headless Chromium (Debian package) driven by Playwright,
the real app served on 127.0.0.1. Their fixtures (``chromium``, ``browser_engine``,
``browser_server``) are in ``tests.web.browser_fixtures``.

A browser test module runs on the session's event loop (Playwright's objects belong to the
loop that started them) and requires the fixtures' plugin::

    pytest_plugins = ["tests.web.browser_fixtures"]
    pytestmark = BROWSER

Each test opens its pages in a context of its own (``new_page``: cookies, storage and cache
are the context's, so tests stay independent) on the process's one browser; the app renders
on the process's render pool (``default_pool``) instead of starting fresh workers per app
(``browser_app``).
With ``DUBAN_SCREENSHOTS=1`` screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models import Person, Role
from models.db import create_sessionmaker
from notifier.templating import default_pool
from supervision.accounts import hash_password
from supervision.clock import FixedClock
from testing import factories as f
from testing.databases import IN_CI
from tests.web.conftest import PASSWORD, make_app
from web.app import WebConfig

#: The marks of a browser test module: slow, and on the session's loop (the browser's).
BROWSER = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

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
#: ``browser_server``'s administrator, seeded by the fixture (`office_roles` adds the others)
ADMIN = "admin@example.gov.cn"
SUPERVISOR = "supervisor@example.gov.cn"
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}
#: how long a page may take to answer or an expectation to come true (a loaded machine)
TIMEOUT_MS = 15_000


async def screenshot(page: Any, name: str, **options: Any) -> None:
    """Save what ``page`` shows as ``ARTIFACTS/name``, when ``DUBAN_SCREENSHOTS=1``."""
    if SCREENSHOTS:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / name), **options)


def chromium_path() -> str:
    """Debian's chromium (skip without it; fail in CI)."""
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        if IN_CI:
            pytest.fail("Debian's chromium is required in CI (.ci/run installs it)", pytrace=False)
        pytest.skip("chromium not installed (apt-get install chromium)")
    return path


@asynccontextmanager
async def new_page(chromium: Any, viewport: dict[str, int], **options: Any) -> AsyncIterator[Any]:
    """A page in a fresh context of ``chromium`` (its own cookies), closed afterwards."""
    context = await chromium.new_context(viewport=viewport, **options)
    try:
        page = await context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        yield page
    finally:
        await context.close()


async def login(
    page: Any, base: str, email: str, *, lang: str | None = None, then: str = "/"
) -> None:
    """Log ``email`` in through the login form and land on ``then``; with ``lang``, switch
    the language first (``/lang/…``), so the first page after the login is already in it."""
    form = "/login?" + urlencode({"next": then})
    await page.goto(base + (f"/lang/{lang}?" + urlencode({"next": form}) if lang else form))
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(base + then)


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """``app`` on a free loopback port; its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


def browser_app(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    *,
    config: WebConfig | None = None,
) -> web.Application:
    """The real app with the admin part, rendering its messages on the process's pool (its
    pages use the process's compiled templates, ``web.views.common.page_templates``)."""
    return make_app(sessions, clock, config=config, render_pool=default_pool())


async def office_roles(engine: AsyncEngine, unit_id: int) -> dict[str, str]:
    """Who logs in on ``browser_server``'s office, by role: its admin, a supervisor added
    here and the liaison of ``unit_id`` (李责任, given the test password here)."""
    async with create_sessionmaker(engine)() as s, s.begin():
        liaison = (
            await s.scalars(
                select(Person).where(Person.unit_id == unit_id, Person.name == "李责任")
            )
        ).one()
        supervisor = await f.person(s, name="赵督查", email=SUPERVISOR, roles={Role.SUPERVISOR})
        for person in (liaison, supervisor):
            person.password_hash = hash_password(PASSWORD)
        return {"admin": ADMIN, "supervisor": SUPERVISOR, "unit": liaison.email}
