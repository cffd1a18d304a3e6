"""The real services a test run or benchmark uses: a PostgreSQL database of its own (made from
``DUBAN_TEST_PG_URL``, by default the machine's ``test`` database), the schema built from the
models, emptying every table, and a Redis URL (``DUBAN_TEST_REDIS_URL``)."""

from __future__ import annotations

import os
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
