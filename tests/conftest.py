"""Shared fixtures: real SQLite and PostgreSQL databases, a movable clock, real Redis.

Each test run gets its own PostgreSQL database (created from ``DUBAN_TEST_PG_URL``, by
default the machine's ``test`` database) and its own SQLite file, both set up once, and one
engine on each for the run; tables are emptied after every test. With ``CI=true`` a missing
PostgreSQL or Redis fails the test instead of skipping it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from models.db import create_engine, create_sessionmaker
from notifier.templating.pool import RenderLimits, RenderPool, close_default_pool, default_pool
from supervision.clock import FixedClock
from testing import SHANGHAI
from testing.databases import (
    IN_CI,
    RedisLease,
    create_pg_database,
    create_schema,
    drop_pg_database,
    empty_tables,
    unavailable,
)

if TYPE_CHECKING:
    from testing.bot_harness import Harness
    from testing.bot_world import World

__all__ = ["IN_CI", "SHANGHAI", "unavailable"]

# Property tests judge their inputs, not the machine's speed: under a loaded machine (two
# cores, parallel workers) Hypothesis's wall-clock deadline and its "generation is slow"
# check fail tests whose rules hold.
settings.register_profile("duban", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("duban")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str | None]:
    """A PostgreSQL database with the schema, for this test run (None when PostgreSQL is down)."""
    url = asyncio.run(create_pg_database(durable=False))
    if url is None:
        yield None
        return
    asyncio.run(create_schema(url))
    yield url
    asyncio.run(drop_pg_database(url))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database file with the schema, for this test run."""
    path: Path = tmp_path_factory.mktemp("db") / "duban-test.db"
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(create_schema(url))
    return url


#: Both databases, as parameters (PostgreSQL's carry the ``postgres`` mark).
DATABASES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
#: The database a test that is not marked ``dialects`` runs on: PostgreSQL, as in production.
#: ``DUBAN_TEST_DATABASE=sqlite`` picks the other; ``--all-dialects`` runs every test on both.
ONE_DATABASE = os.environ.get("DUBAN_TEST_DATABASE", "postgres")
#: Fixtures that take the database from the test's parameters (see pytest_generate_tests).
DATABASE_FIXTURES = ("db_url", "matrix_url")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--all-dialects",
        action="store_true",
        help="run every database test on SQLite and PostgreSQL, not only those marked dialects",
    )


def pytest_configure(config: pytest.Config) -> None:
    if ONE_DATABASE not in ("sqlite", "postgres"):
        raise pytest.UsageError("DUBAN_TEST_DATABASE must be sqlite or postgres")


def databases_for(config: pytest.Config, node: pytest.Function | pytest.Item) -> list[object]:
    """The databases a test runs on: both when it is marked ``dialects`` (it touches a
    branch that differs by dialect) or the run asks for ``--all-dialects``, else one."""
    if node.get_closest_marker("dialects") or config.getoption("--all-dialects"):
        return DATABASES
    return [p for p in DATABASES if ONE_DATABASE in getattr(p, "values", (p,))]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    for name in DATABASE_FIXTURES:
        if name in metafunc.fixturenames:
            params = databases_for(metafunc.config, metafunc.definition)
            metafunc.parametrize(name, params, indirect=True)


def database_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The URL for a fixture parametrised by pytest_generate_tests (skip, or fail in CI,
    without PostgreSQL)."""
    if request.param == "sqlite":
        return sqlite_url
    url: str | None = request.getfixturevalue("pg_url")
    if url is None:
        unavailable("PostgreSQL")
    assert url is not None
    return url


@pytest.fixture
def db_url(request: pytest.FixtureRequest, sqlite_url: str) -> str:
    """The test's database: SQLite and PostgreSQL for a test marked ``dialects``, else one."""
    return database_url(request, sqlite_url)


@pytest.fixture
def postgres_url(pg_url: str | None) -> str:
    """The PostgreSQL database only (for tests of PostgreSQL-specific behaviour)."""
    if pg_url is None:
        unavailable("PostgreSQL")
    assert pg_url is not None
    return pg_url


@pytest.fixture(scope="session")
def _engines() -> dict[str, AsyncEngine]:
    """One engine per database URL for the whole run (per pytest-xdist worker).

    An engine keeps its compiled statements and its dialect's first-connect findings: a new
    engine per test compiled every statement again (most of a small test's CPU). Its pool
    is emptied after each test (``reset_engine``), since each test runs on an event loop of
    its own and a connection belongs to the loop that opened it."""
    return {}


def shared_engine(engines: dict[str, AsyncEngine], url: str) -> AsyncEngine:
    """The run's engine for ``url``, made on first use."""
    if url not in engines:
        engines[url] = create_engine(url)
    return engines[url]


async def reset_engine(eng: AsyncEngine) -> None:
    """After a test: empty every table and close the pool's connections (the engine stays)."""
    await empty_tables(eng)
    await eng.dispose()


@pytest.fixture
async def engine(db_url: str, _engines: dict[str, AsyncEngine]) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty database with the schema; emptied again after the test."""
    eng = shared_engine(_engines, db_url)
    yield eng
    await reset_engine(eng)


@pytest.fixture
async def pg_engine(
    postgres_url: str, _engines: dict[str, AsyncEngine]
) -> AsyncIterator[AsyncEngine]:
    """Like ``engine`` but PostgreSQL only."""
    eng = shared_engine(_engines, postgres_url)
    yield eng
    await reset_engine(eng)


@pytest.fixture
async def sqlite_engine(
    sqlite_url: str, _engines: dict[str, AsyncEngine]
) -> AsyncIterator[AsyncEngine]:
    """Like ``engine`` but SQLite only."""
    eng = shared_engine(_engines, sqlite_url)
    yield eng
    await reset_engine(eng)


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory on ``engine``."""
    return create_sessionmaker(engine)


@pytest.fixture
async def session(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session; the test commits what it wants kept."""
    async with sessions() as s:
        yield s


@pytest.fixture
def clock() -> FixedClock:
    """A clock at 2026-11-02 09:00 in Shanghai (a Monday, a working day); move it in tests."""
    return FixedClock(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI))


@pytest.fixture(scope="session")
def redis_lease() -> Iterator[RedisLease | None]:
    """A Redis database held by this process alone for the run (None when Redis is down):
    pytest-xdist workers and other runs on the machine each get their own number."""
    lease = RedisLease.claim()
    yield lease
    if lease is not None:
        lease.release()


@pytest.fixture
async def redis_url(redis_lease: RedisLease | None) -> AsyncIterator[str]:
    """A real Redis database of this run's own, flushed before the test."""
    from redis.asyncio import Redis

    if redis_lease is None:
        unavailable("Redis")
    assert redis_lease is not None
    url = redis_lease.url
    client = Redis.from_url(url)
    try:
        await client.ping()
    except OSError:
        await client.aclose()
        unavailable("Redis")
    except Exception as exc:
        await client.aclose()
        unavailable(f"Redis ({exc.__class__.__name__})")
    await client.flushdb()
    await client.aclose()
    yield url


@pytest.fixture
async def aiohttp_client_factory() -> AsyncIterator[object]:
    """Start an aiohttp app on 127.0.0.1 and return a TestClient for it (closed after)."""
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    clients: list[TestClient] = []

    async def make(app: web.Application) -> TestClient:
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


# --- the bot's tests -------------------------------------------------------------------------


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession]) -> World:
    """The bot tests' office (testing.bot_world), committed."""
    from testing.bot_world import build_world

    async with sessions() as session:
        return await build_world(session)


@pytest.fixture
async def h(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> AsyncIterator[Harness]:
    """The real dispatcher against the fake Bot API (testing.bot_harness)."""
    from testing.bot_harness import harness

    async with harness(sessions, clock) as running:
        yield running


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """New password hashes use argon2's cheapest parameters during tests: a hash with the
    production ones costs ~0.2 s of CPU, and every logged-in web client needs one. Tests of
    the parameters themselves ask for ``production_hasher``."""
    from argon2 import PasswordHasher

    from supervision.accounts import use_hasher

    previous = use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield
    use_hasher(previous)


@pytest.fixture
def production_hasher() -> Iterator[None]:
    """New password hashes use the production parameters during this test."""
    from supervision.accounts import PRODUCTION_HASHER, use_hasher

    previous = use_hasher(PRODUCTION_HASHER)
    yield
    use_hasher(previous)


@pytest.fixture(scope="session")
def quick_pool() -> Iterator[RenderPool]:
    """Render workers with a short timeout, so templates that would run for ever fail fast
    (0.5 s, stretched by the machine's load so a benign render on a fresh worker still fits)."""
    from testing.load import loaded_seconds

    limits = RenderLimits(timeout_seconds=loaded_seconds(0.5), memory_mb=256, workers=2)
    pool = RenderPool(limits)
    yield pool
    pool.close()
    assert pool.processes == 0


@pytest.fixture(scope="session", autouse=True)
def _render_workers_stop() -> Iterator[None]:
    """The default render pool's workers are killed when the test run ends, and no other
    pool was left with live workers (each owner closes its own).

    Tests that render through the default pool check what is rendered and sent, not the
    limits (those use ``quick_pool`` or a pool of their own): its wall-clock limit is made
    generous, since a fresh worker's first render on a machine loaded by parallel test
    processes can pass the 2 s default."""
    import dataclasses
    import gc

    pool = default_pool()
    pool.limits = dataclasses.replace(pool.limits, timeout_seconds=30)
    yield
    close_default_pool()
    assert default_pool().processes == 0
    left = [p for p in gc.get_objects() if isinstance(p, RenderPool) and p.processes]
    assert not left, f"{len(left)} render pool(s) left with live workers"
