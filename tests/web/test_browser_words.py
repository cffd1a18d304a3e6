"""Nothing English or raw on a Chinese page, nothing Chinese of the domain on an English one:
a real Chromium crawl of every page each role reaches from the menu, and one level in.

The office is the demo (`duban.demo`: units, people, items with reports, extensions,
milestones, an issued bulletin) plus the messages a scan writes and one failed delivery. Each
role logs in, opens every menu page, then the first item page, bulletin and template linked
from them, and reads the visible text (``body.innerText``, code, template sources and message
bodies aside). It fails on English words of the domain (from the catalogue's English values
and the stored codes) and raw keys (``snake_case``, ``x.y``, enum reprs) on a Chinese page,
and on the catalogue's Chinese words on an English one (after the office's own data: names,
titles, texts), naming the page and the offending text.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from duban.demo import load_demo
from models import (
    DeliveryAttempt,
    Extension,
    Item,
    Milestone,
    Notification,
    NotificationStatus,
    Person,
    Report,
    Role,
    Unit,
)
from models.db import create_engine, create_sessionmaker
from notifier.scan import scan_once
from supervision.accounts import hash_password
from supervision.clock import FixedClock
from supervision.labels import CATALOGUE
from testing import SHANGHAI
from testing import factories as f
from testing.databases import empty_tables
from tests.web.browser_support import browser_app, login, new_page, serve
from tests.web.conftest import PASSWORD
from web.i18n import STRINGS
from web.views.bulletins import setup_bulletin_pages
from web.views.tokens import setup_token_pages

pytest_plugins = ["tests.web.browser_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser_words")]

#: who logs in, by role (demo people; the admin is added)
LOGINS = {
    "admin": "crawl-admin@demo.gov.cn",
    "supervisor": "zhenghua@demo.gov.cn",
    "liaison": "lina@demo.gov.cn",
    "leader": "wangqiang@demo.gov.cn",
    "viewer": "songjia@demo.gov.cn",
}
#: one level in: the first link of each kind found on the menu pages
ONE_LEVEL_IN = {
    "item": re.compile(r"^/items/\d+$"),
    "bulletin": re.compile(r"^/bulletins/\d+$"),
    "template": re.compile(r"^/templates/[a-z_]+/[a-z_]+/(?:zh|en)/[a-z_]+"),
}
#: the page's visible text; what people wrote (code, message bodies) and what is marked as
#: another language (the language switch) set aside
VISIBLE_TEXT = """() => {
  const aside = [...document.querySelectorAll('pre, code, textarea, [data-content], body [lang]')];
  const was = aside.map((e) => e.style.display);
  aside.forEach((e) => { e.style.display = 'none'; });
  const text = document.body.innerText;
  aside.forEach((e, i) => { e.style.display = was[i]; });
  return text;
}"""
LINKS = "(links) => links.map((a) => a.getAttribute('href'))"

NOT_TEXT = re.compile(r"\S+@\S+|https?://\S+|(?<![\w.])/[\w./{}?=&%-]+")
RAW_KEYS = re.compile(
    r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b"  # snake_case
    r"|\b(?!e\.g\b)[a-z][a-z0-9]*\.[a-z][a-z0-9_]*\b"  # x.y keys
    r"|\b[A-Z][A-Za-z]+\.[A-Z][A-Z_]+\b|<[A-Z]\w*\.\w+"  # enum reprs
)
WORD = re.compile(r"[A-Za-z][A-Za-z-]*[A-Za-z]")
#: short words of English sentences, not of the domain
STOP = frozenset(
    {"with", "from", "that", "this", "your", "their", "than", "into", "only", "when", "what"}
    | {"will", "been", "have"}
)


def _english_words() -> frozenset[str]:
    """English words of the domain: the catalogue's English values and the stored codes."""
    words: set[str] = set()
    for enum, pairs in CATALOGUE.items():
        for member, (_, en) in pairs.items():
            words.update(w.lower() for w in WORD.findall(en))
            words.update(str(member).split("_"))
        del enum
    return frozenset(w for w in words if len(w) >= 4 and w not in STOP)


def _written_in_chinese() -> frozenset[str]:
    """Latin words the Chinese pages use on purpose (Telegram, API, CSV…)."""
    zh = [z for pairs in CATALOGUE.values() for z, _ in pairs.values()]
    zh += [z for z, _ in STRINGS.values()]
    return frozenset(w for text in zh for w in WORD.findall(text))


def _chinese_words() -> list[str]:
    """The catalogue's Chinese words (two characters or more), longest first."""
    words = {z for pairs in CATALOGUE.values() for z, _ in pairs.values()}
    return sorted((w for w in words if len(w) >= 2 and re.search(r"[\u4e00-\u9fff]", w)), key=len)[
        ::-1
    ]


ENGLISH = _english_words()
LATIN_IN_ZH = _written_in_chinese()
CHINESE = _chinese_words()


def offending(text: str, lang: str, office_data: list[str]) -> list[str]:
    """What a page of ``lang`` must not show: raw keys, and the other language's domain words."""
    text = NOT_TEXT.sub(" ", text)
    found = RAW_KEYS.findall(text)
    if lang == "zh":
        found += [w for w in WORD.findall(text) if w.lower() in ENGLISH and w not in LATIN_IN_ZH]
    else:
        for datum in office_data:  # the office's own words may be Chinese in any language
            text = text.replace(datum, " ")
        for word in CHINESE:  # longest first: 已发送 is said once, not with 发送 again
            if word in text:
                found.append(word)
                text = text.replace(word, " ")
    return sorted(set(found))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def office(sqlite_url: str) -> AsyncIterator[tuple[str, list[str]]]:
    """The demo office served on a free loopback port, built once for every role; its own
    data (names, texts)."""
    engine = create_engine(sqlite_url)
    await empty_tables(engine)
    clock = FixedClock(datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    sessions = create_sessionmaker(engine)
    async with sessions() as s, s.begin():
        await load_demo(s, clock=clock, tz=SHANGHAI)
        await f.person(s, name="系统管理员", email=LOGINS["admin"], roles={Role.ADMIN})
        for email in LOGINS.values():
            person = await s.scalar(select(Person).where(Person.email == email))
            assert person is not None, email
            person.password_hash = hash_password(PASSWORD)
    await scan_once(sessions, clock=clock, tz=SHANGHAI)
    async with sessions() as s, s.begin():
        row = await s.scalar(select(Notification).order_by(Notification.id).limit(1))
        assert row is not None
        row.status = NotificationStatus.FAILED
        row.last_error = "550 mailbox unavailable"
        s.add(
            DeliveryAttempt(
                notification_id=row.id,
                channel=row.channel,
                started_at=clock.now(),
                outcome="permanent",
                error="550 mailbox unavailable",
            )
        )
    async with sessions() as s:
        data = await _office_data(s)
    # every page part the web process serves (duban.process.serve_web)
    app = browser_app(sessions, clock)
    setup_bulletin_pages(app)
    setup_token_pages(app)
    try:
        async with serve(app) as base:
            yield base, data
    finally:
        await empty_tables(engine)
        await engine.dispose()


async def _office_data(s: AsyncSession) -> list[str]:
    columns: list[Any] = [
        Unit.name,
        Person.name,
        Item.ref,
        Item.title,
        Item.objective,
        Item.content,
        Report.text,
        Report.review_comment,
        Extension.reason,
        Extension.progress,
        Extension.comment,
        Milestone.name,
    ]
    data = {"督查室"}  # the office's name (DUBAN_OFFICE_NAME)
    for column in columns:
        data.update(v for v in (await s.scalars(select(column))).all() if v)
    return sorted(data, key=len, reverse=True)


async def _crawl(
    chromium: Any, base: str, role: str, lang: str, office_data: list[str]
) -> dict[str, list[str]]:
    problems: dict[str, list[str]] = {}
    async with new_page(chromium, {"width": 1366, "height": 900}) as page:
        await login(page, base, LOGINS[role], lang=lang)
        menu = await page.eval_on_selector_all("nav.main a", LINKS)
        assert menu, f"{role}: no menu"
        inner: dict[str, str] = {}
        for url in menu:
            response = await page.goto(base + url)
            assert response is not None and response.ok, url
            found = offending(await page.evaluate(VISIBLE_TEXT), lang, office_data)
            if found:
                problems[url] = found
            for href in await page.eval_on_selector_all("main a[href]", LINKS):
                for kind, pattern in ONE_LEVEL_IN.items():
                    if kind not in inner and pattern.match(href or ""):
                        inner[kind] = href
        assert "item" in inner, f"{role}: no item page reached from the menu"
        if role == "admin":  # the admin reaches every kind of page one level in
            assert set(inner) == set(ONE_LEVEL_IN), inner
        for url in inner.values():
            response = await page.goto(base + url)
            assert response is not None and response.ok, url
            found = offending(await page.evaluate(VISIBLE_TEXT), lang, office_data)
            if found:
                problems[url] = found
    return problems


@pytest.mark.asyncio(loop_scope="session")
@pytest.mark.parametrize(
    ("role", "lang"),
    [
        ("admin", "zh"),
        ("supervisor", "zh"),
        ("liaison", "zh"),
        ("leader", "zh"),
        ("viewer", "zh"),
        ("admin", "en"),
        ("supervisor", "en"),
        ("liaison", "en"),
    ],
)
async def test_every_page_speaks_the_readers_language(
    office: tuple[str, list[str]], chromium: Any, role: str, lang: str
) -> None:
    base, office_data = office
    problems = await _crawl(chromium, base, role, lang, office_data)
    report = "\n".join(f"  {url}: {', '.join(words)}" for url, words in problems.items())
    assert not problems, f"{role} ({lang}) sees words of the wrong language or raw keys:\n{report}"


def test_the_check_finds_raw_keys_and_the_wrong_language() -> None:
    """The crawl's reader itself: it must fail on what the issue saw, and spare what is right."""
    assert {"remind", "telegram"} <= set(offending("提醒 · remind · telegram/zh: text", "zh", []))
    assert {"ladder_step", "scan"} <= set(offending("ladder_step · scan", "zh", []))
    assert "ItemState.OPEN" in offending("状态：ItemState.OPEN", "zh", [])
    assert "items.title" in offending("t('items.title')", "zh", [])
    assert offending("经 Telegram 发送：a@b.cn https://x.cn/escalate", "zh", []) == []
    assert offending("Status: 已发送 (张伟)", "en", ["张伟"]) == ["已发送"]
    assert offending("Sent to 张伟", "en", ["张伟"]) == []
