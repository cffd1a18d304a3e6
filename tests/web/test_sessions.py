"""Server-side web sessions: hashed ids, logout, idle and absolute limits, and one rule that
ends a person's sessions when their password, roles, unit or active flag change."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models import Person, Role, WebSession
from supervision.accounts import ensure_admin, hash_password
from supervision.audit import Actor
from supervision.importing import import_rows
from supervision.people import PersonSpec, save_person
from tests.web.conftest import SECRET, Seed, Web, make_app
from web.app import WebConfig
from web.auth import SESSION_COOKIE
from web.sessions import SessionPolicy, hash_session_id


def cookie_of(client: Web) -> str:
    jar = client.client.session.cookie_jar
    return jar.filter_cookies(client.client.make_url("/"))[SESSION_COOKIE].value


async def logged_in(client: Web) -> bool:
    return (await client.get("/items")).status == 200


async def session_rows(sessions, person_id: int) -> int:
    async with sessions() as s:
        query = select(func.count()).where(WebSession.person_id == person_id)
        return int(await s.scalar(query) or 0)


async def test_only_a_hash_of_the_cookie_is_stored(anon: Web, sessions, seed: Seed) -> None:
    assert (await anon.login("admin@example.gov.cn", person_id=seed.admin)).status == 303
    value = cookie_of(anon)
    assert len(value) == 43  # 32 random bytes, url-safe
    async with sessions() as s:
        row = await s.scalar(select(WebSession).where(WebSession.person_id == seed.admin))
    assert row is not None and row.id_hash == hash_session_id(value) and row.id_hash != value


async def test_a_copied_cookie_stops_working_after_logout(
    as_admin: Web, sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    thief = Web(await aiohttp_client_factory(make_app(sessions, clock)), seed.admin)
    thief.client.session.cookie_jar.update_cookies(
        {SESSION_COOKIE: cookie_of(as_admin)}, thief.client.make_url("/")
    )
    assert await logged_in(thief)
    assert (await as_admin.post("/logout")).status == 303
    assert not await logged_in(thief)
    assert await session_rows(sessions, seed.admin) == 0


async def test_idle_timeout_and_absolute_lifetime_are_settings(
    sessions, clock, aiohttp_client_factory, seed: Seed
) -> None:
    policy = SessionPolicy(idle=timedelta(minutes=30), lifetime=timedelta(hours=2))
    config = WebConfig(secret_key=SECRET, sessions=policy)
    client = Web(await aiohttp_client_factory(make_app(sessions, clock, config=config)))
    assert (await client.login("admin@example.gov.cn", person_id=seed.admin)).status == 303
    # Used every 25 minutes: alive past the idle limit, until the absolute end.
    for _ in range(4):
        clock.advance(timedelta(minutes=25))
        assert await logged_in(client)
    clock.advance(timedelta(minutes=25))  # 2 h 05 min after login
    assert not await logged_in(client)
    client.person_id = None  # anonymous again: its form tokens are an anonymous one's
    assert (await client.login("admin@example.gov.cn", person_id=seed.admin)).status == 303
    clock.advance(timedelta(minutes=31))
    assert not await logged_in(client)


async def test_role_change_through_the_people_use_case_ends_sessions(
    as_supervisor: Web, sessions, clock, seed: Seed
) -> None:
    async with sessions() as s, s.begin():
        sup = await s.get_one(Person, seed.supervisor)
        spec = PersonSpec(name=sup.name, email=sup.email, roles=frozenset({Role.VIEWER}))
        await save_person(s, person_id=sup.id, spec=spec, actor=Actor.system("test"), clock=clock)
    assert not await logged_in(as_supervisor)
    assert await session_rows(sessions, seed.supervisor) == 0


async def test_unrelated_changes_keep_the_session(
    as_supervisor: Web, sessions, clock, seed: Seed
) -> None:
    async with sessions() as s, s.begin():
        sup = await s.get_one(Person, seed.supervisor)
        spec = PersonSpec(
            name="新名字", email=sup.email, phone="123", roles=frozenset({Role.SUPERVISOR})
        )
        await save_person(s, person_id=sup.id, spec=spec, actor=Actor.system("test"), clock=clock)
    assert await logged_in(as_supervisor)


async def test_deactivation_and_password_change_end_sessions(
    as_supervisor: Web, as_admin: Web, sessions, clock, seed: Seed
) -> None:
    async with sessions() as s, s.begin():
        sup = await s.get_one(Person, seed.supervisor)
        spec = PersonSpec(
            name=sup.name, email=sup.email, roles=frozenset({Role.SUPERVISOR}), active=False
        )
        await save_person(s, person_id=sup.id, spec=spec, actor=Actor.system("t"), clock=clock)
    assert not await logged_in(as_supervisor)
    async with sessions() as s, s.begin():
        (await s.get_one(Person, seed.admin)).password_hash = hash_password("another password")
    assert not await logged_in(as_admin)


async def test_import_that_resets_roles_ends_sessions(
    as_supervisor: Web, sessions, clock, seed: Seed
) -> None:
    rows = [{"name": "督查员", "email": "sup@example.gov.cn", "roles": "viewer"}]
    async with sessions() as s, s.begin():
        result = await import_rows(
            s, "people", rows, dry_run=False, actor=Actor.system("import"), clock=clock
        )
        assert not result.errors
    assert not await logged_in(as_supervisor)


async def test_cli_init_resetting_a_password_ends_sessions(
    as_admin: Web, sessions, seed: Seed
) -> None:
    async with sessions() as s, s.begin():
        await ensure_admin(s, email="admin@example.gov.cn", password="a new admin password")
    assert not await logged_in(as_admin)


async def test_settings_reach_the_web_config(tmp_path) -> None:
    from duban.process import web_deps
    from duban.runtime import open_runtime
    from duban.settings import load_settings

    settings = load_settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path}/s.db",
        session_idle_minutes=45,
        session_max_hours=8,
        trusted_proxy_hops=1,
        office_locale="en",
    )
    async with open_runtime(settings) as rt:
        config = web_deps(rt).config
    assert config.sessions == SessionPolicy(timedelta(minutes=45), timedelta(hours=8))
    assert config.proxy_hops == 1
    assert config.office_locale == "en"  # the import templates' headers
