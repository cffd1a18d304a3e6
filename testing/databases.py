"""The real services a test run or benchmark uses: a PostgreSQL database of its own (made from
``DUBAN_TEST_PG_URL``, by default the machine's ``test`` database), the schema built from the
models, emptying every table, and a Redis database of its own (:class:`RedisLease`, on
``DUBAN_TEST_REDIS_URL``)."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Base
from models.db import create_engine, is_sqlite

PG_ADMIN_URL = os.environ.get(
    "DUBAN_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("DUBAN_TEST_REDIS_URL", "redis://127.0.0.1:6379")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _admin_dsn() -> str:
    return PG_ADMIN_URL.replace("postgresql+asyncpg://", "postgresql://")


async def create_pg_database(*, durable: bool = True) -> str | None:
    """A new, empty PostgreSQL database; None when PostgreSQL is down.

    ``durable=False`` (test runs) lets commits return before the WAL reaches the disk; the
    benchmarks keep the default, as production runs."""
    import asyncpg

    name = f"duban_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        if not durable:
            await conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    finally:
        await conn.close()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


async def drop_pg_database(url: str) -> None:
    """Drop a database made by :func:`create_pg_database`."""
    import asyncpg

    name = url.rsplit("/", 1)[1]
    conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def create_schema(url: str) -> None:
    """Create every table in an empty database, from the models.

    tests/test_migrations.py checks that the migrations build the same schema."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    finally:
        await engine.dispose()


async def empty_tables(engine: AsyncEngine) -> None:
    """Delete every row of every table; identities restart (as in a fresh database).

    PostgreSQL gets one script of DELETEs, not TRUNCATE: TRUNCATE makes new files for every
    table and costs about a second per call on this machine, DELETE on a test's few rows about
    a millisecond."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if is_sqlite(engine):
            # Self-referencing rows (a unit's parent) are deleted in one statement: check
            # foreign keys at commit, when every table is empty.
            await conn.execute(text("PRAGMA defer_foreign_keys=ON"))
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))
            # Only AUTOINCREMENT tables keep a counter; the others restart from max(id) + 1.
            has_counters = await conn.scalar(
                text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_sequence'")
            )
            if has_counters:
                await conn.execute(text("DELETE FROM sqlite_sequence"))
        else:
            script = "".join(f'DELETE FROM "{name}";' for name in tables) + _RESTART_SEQUENCES
            raw = await conn.get_raw_connection()
            # The driver's simple-query path runs the whole script in one round trip.
            await raw.driver_connection.execute(script)  # type: ignore[union-attr]


_RESTART_SEQUENCES = (
    "SELECT setval(c.oid, 1, false) FROM pg_class c"
    " WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace;"
)


def unavailable(what: str) -> None:
    """Skip the test, or in CI fail it, because a required service is missing."""
    import pytest

    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable", pytrace=False)
    pytest.skip(f"{what} unavailable")


class RedisLease:
    """One of Redis's numbered databases (1–15), held by this process alone while it runs.

    Test runs on this machine run side by side (pytest-xdist workers, other engineers' runs,
    a benchmark), and each one flushes its Redis database before a test. A process claims a
    free number with ``SET duban:test-db:<n> <owner> NX`` in database 0, keeps the claim alive
    from a daemon thread (a short expiry, renewed well before it lapses, so a killed process
    frees its number within a minute) and deletes it on :meth:`release` if it still owns it.
    """

    KEY = "duban:test-db:{}"
    NUMBERS = range(1, 16)
    EXPIRY_SECONDS = 60
    RENEW_EVERY_SECONDS = 15
    #: renews / deletes the claim only while this owner still holds it
    _RENEW = (
        "if redis.call('get', KEYS[1]) == ARGV[1] then"
        " return redis.call('expire', KEYS[1], ARGV[2]) end return 0"
    )
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end"

    def __init__(self, base_url: str, number: int, owner: str) -> None:
        self.base_url = base_url
        self.number = number
        self.owner = owner
        self._stop = threading.Event()
        self._renewer = threading.Thread(target=self._renew, name="redis-lease", daemon=True)

    @property
    def url(self) -> str:
        """The URL of the claimed database."""
        return f"{self.base_url}/{self.number}"

    @classmethod
    def claim(cls, base_url: str = REDIS_URL, *, wait_seconds: float = 60.0) -> RedisLease | None:
        """Claim a free database; None when Redis is down. Waits (polling) while all 15 are
        taken and raises RuntimeError after ``wait_seconds``."""
        from redis import Redis
        from redis.exceptions import ConnectionError as RedisConnectionError

        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        client = Redis.from_url(f"{base_url}/0", socket_connect_timeout=5)
        try:
            give_up = time.monotonic() + wait_seconds
            while True:
                for number in cls.NUMBERS:
                    key = cls.KEY.format(number)
                    if client.set(key, owner, nx=True, ex=cls.EXPIRY_SECONDS):
                        lease = cls(base_url, number, owner)
                        lease._renewer.start()
                        return lease
                if time.monotonic() > give_up:
                    raise RuntimeError(f"all Redis databases {cls.NUMBERS} are held by test runs")
                time.sleep(0.5)  # another run's claim lapses or is released
        except (OSError, RedisConnectionError):
            return None
        finally:
            client.close()

    def _renew(self) -> None:
        from redis import Redis
        from redis.exceptions import RedisError

        client = Redis.from_url(f"{self.base_url}/0", socket_connect_timeout=5)
        key = self.KEY.format(self.number)
        try:
            while not self._stop.wait(self.RENEW_EVERY_SECONDS):
                try:
                    client.eval(self._RENEW, 1, key, self.owner, str(self.EXPIRY_SECONDS))
                except (OSError, RedisError):
                    continue  # Redis restarting: the next round renews
        finally:
            client.close()

    def release(self) -> None:
        """Give the number back (stops renewing; deletes the claim if still ours)."""
        from redis import Redis
        from redis.exceptions import RedisError

        self._stop.set()
        self._renewer.join(timeout=5)
        client = Redis.from_url(f"{self.base_url}/0", socket_connect_timeout=5)
        try:
            client.eval(self._RELEASE, 1, self.KEY.format(self.number), self.owner)
        except (OSError, RedisError):
            pass  # the claim lapses by itself
        finally:
            client.close()
