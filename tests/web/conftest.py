"""Fixtures for the admin pages: the real app on 127.0.0.1, seeded people, logged-in clients."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Person, Role
from notifier.templating import RenderPool
from supervision.accounts import hash_password
from supervision.clock import FixedClock
from testing import factories as f
from web.admin import setup_admin
from web.app import WebConfig, WebDeps, create_app
from web.auth import CSRF_COOKIE, SESSION_COOKIE, csrf_for
from web.sessions import start_session
from web.throttle import LoginGuard

SECRET = "test-secret-key-for-web"
PASSWORD = "correct horse battery"
TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Seed:
    """Ids of the seeded records."""

    unit_a: int
    unit_b: int
    admin: int
    supervisor: int
    liaison_a: int
    viewer: int
    item_a: int
    item_b: int
    assignment_a: int
    assignment_b: int


@pytest.fixture
async def seed(sessions: async_sessionmaker[AsyncSession]) -> Seed:
    """Two units, one person per web role, one item per unit."""
    pw = hash_password(PASSWORD)
    async with sessions() as s, s.begin():
        a = await f.unit(s, code="A", name="甲单位")
        b = await f.unit(s, code="B", name="乙单位")
        admin = await f.person(s, name="管理员", email="admin@example.gov.cn", roles={Role.ADMIN})
        sup = await f.person(s, name="督查员", email="sup@example.gov.cn", roles={Role.SUPERVISOR})
        lia = await f.person(
            s, name="联络员甲", email="liaison@example.gov.cn", unit=a, roles={Role.LIAISON}
        )
        view = await f.person(s, name="观察员", email="viewer@example.gov.cn", roles={Role.VIEWER})
        for p in (admin, sup, lia, view):
            p.password_hash = pw
        owner_a = await f.person(s, name="责任人甲", unit=a)
        item_a = await f.item(s, ref="督〔2026〕1号", title="甲单位的事项")
        item_b = await f.item(s, ref="督〔2026〕2号", title="乙单位的事项")
        asg_a = await f.assignment(s, item=item_a, unit=a, owner=owner_a)
        asg_b = await f.assignment(s, item=item_b, unit=b)
        return Seed(
            a.id, b.id, admin.id, sup.id, lia.id, view.id, item_a.id, item_b.id, asg_a.id, asg_b.id
        )


class Waits:
    """The login throttle's sleep, recorded instead of slept (tests move a clock, not time)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def make_app(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    *,
    config: WebConfig | None = None,
    guard: LoginGuard | None = None,
    render_pool: RenderPool | None = None,
) -> web.Application:
    """The real web app with the admin part; the login throttle records its waits. With
    ``render_pool`` the app renders on those workers instead of starting its own."""
    deps = WebDeps(
        config=config or WebConfig(secret_key=SECRET),
        sessions=sessions,
        clock=clock,
        login_guard=guard or LoginGuard(sleep=Waits()),
        render_pool=render_pool,
    )
    return create_app(deps, [setup_admin])


@pytest.fixture(scope="module")
def render_pool() -> Iterator[RenderPool]:
    """Render workers under the app's default limits, shared by the apps of one test module:
    an app of its own would start fresh workers, which compile every template again."""
    pool = RenderPool(WebConfig(secret_key=SECRET).render_limits)
    yield pool
    pool.close()


class Web:
    """A test client that knows how to log in and sign its forms."""

    def __init__(self, client: TestClient, person_id: int | None = None) -> None:
        self.client = client
        self.person_id = person_id

    def token(self) -> str:
        """The CSRF token for the current cookies."""
        cookie = self.client.session.cookie_jar.filter_cookies(self.client.make_url("/"))
        value = cookie[CSRF_COOKIE].value if CSRF_COOKIE in cookie else ""
        return csrf_for(SECRET, value, self.person_id)

    async def get(self, path: str, **kw: Any) -> Any:
        """GET without following redirects."""
        return await self.client.get(path, allow_redirects=False, **kw)

    async def post(self, path: str, data: Any = None, *, csrf: bool = True, **kw: Any) -> Any:
        """POST a form with the CSRF token (unless ``csrf`` is False)."""
        if isinstance(data, dict) or data is None:
            data = dict(data or {})
            if csrf:
                data.setdefault("csrf_token", self.token())
        return await self.client.post(path, data=data, allow_redirects=False, **kw)

    async def login(
        self, email: str, password: str = PASSWORD, person_id: int | None = None
    ) -> Any:
        """Open /login (for the CSRF cookie) and post the credentials."""
        await self.get("/login")
        response = await self.post("/login", {"email": email, "password": password})
        if response.status == 303:
            self.person_id = person_id
        return response


@pytest.fixture
async def anon(sessions, clock, aiohttp_client_factory, render_pool) -> Web:
    """An anonymous client of a fresh app."""
    return Web(await aiohttp_client_factory(make_app(sessions, clock, render_pool=render_pool)))


async def _logged_in(sessions, clock, factory, pool, person_id: int) -> Web:
    """A client with a session of ``person_id``'s, started as a login starts one (the login
    itself is what tests/web/test_auth.py and test_sessions.py exercise)."""
    web_client = Web(await factory(make_app(sessions, clock, render_pool=pool)), person_id)
    async with sessions() as s, s.begin():
        person = await s.get(Person, person_id)
        assert person is not None
        session_id = await start_session(
            s,
            person=person,
            policy=WebConfig(secret_key=SECRET).sessions,
            now=clock.now(),
            ip="127.0.0.1",
        )
    cookies = {SESSION_COOKIE: session_id, CSRF_COOKIE: secrets.token_urlsafe(32)}
    client: TestClient = web_client.client
    client.session.cookie_jar.update_cookies(cookies, client.make_url("/"))
    return web_client


@pytest.fixture
async def as_admin(sessions, clock, aiohttp_client_factory, render_pool, seed: Seed) -> Web:
    """A client logged in as the admin."""
    return await _logged_in(sessions, clock, aiohttp_client_factory, render_pool, seed.admin)


@pytest.fixture
async def as_supervisor(sessions, clock, aiohttp_client_factory, render_pool, seed: Seed) -> Web:
    """A client logged in as a supervisor."""
    return await _logged_in(sessions, clock, aiohttp_client_factory, render_pool, seed.supervisor)


@pytest.fixture
async def as_liaison(sessions, clock, aiohttp_client_factory, render_pool, seed: Seed) -> Web:
    """A client logged in as unit A's liaison."""
    return await _logged_in(sessions, clock, aiohttp_client_factory, render_pool, seed.liaison_a)


@pytest.fixture
async def as_viewer(sessions, clock, aiohttp_client_factory, render_pool, seed: Seed) -> Web:
    """A client logged in as a read-only viewer."""
    return await _logged_in(sessions, clock, aiohttp_client_factory, render_pool, seed.viewer)
