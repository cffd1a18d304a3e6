"""The browser tests' fixtures, a plugin each browser test module requires
(``pytest_plugins = ["tests.web.browser_fixtures"]``): registered once, so the session's
Chromium is one per test process, not one per module that imports it. Helpers:
``tests.web.browser_support``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Role, Source
from models.db import create_engine, create_sessionmaker
from supervision.accounts import hash_password
from supervision.clock import FixedClock
from supervision.requests import request_extension
from testing import SHANGHAI
from testing import factories as f
from testing.databases import empty_tables
from tests.web.browser_support import ARGS, browser_app, chromium_path, serve
from tests.web.conftest import PASSWORD


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def chromium() -> AsyncIterator[Any]:
    """One headless Chromium for the test process (a launch costs about a second of CPU)."""
    executable = chromium_path()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest_asyncio.fixture(loop_scope="session")
async def browser_engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    """The run's SQLite database, on the browser's loop; emptied after the test."""
    engine = create_engine(sqlite_url)
    try:
        yield engine
    finally:
        await empty_tables(engine)
        await engine.dispose()


@pytest_asyncio.fixture(loop_scope="session")
async def browser_server(
    browser_engine: AsyncEngine, clock: FixedClock
) -> AsyncIterator[tuple[str, dict[str, int]]]:
    """The real app on a free loopback port, with seeded people and one pending extension."""
    sessions = create_sessionmaker(browser_engine)
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
    async with serve(browser_app(sessions, clock)) as base:
        yield base, ids
