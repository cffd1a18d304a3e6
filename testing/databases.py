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


async def create_pg_database() -> str | None:
    """A new, empty PostgreSQL database; None when PostgreSQL is down."""
    import asyncpg

    name = f"duban_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    try:
        conn = await asyncpg.connect(_admin_dsn(), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
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
    """Delete every row of every table (identities restart on PostgreSQL)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    async with engine.begin() as conn:
        if is_sqlite(engine):
            # Self-referencing rows (a unit's parent) are deleted in one statement: check
            # foreign keys at commit, when every table is empty.
            await conn.execute(text("PRAGMA defer_foreign_keys=ON"))
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            joined = ", ".join(f'"{n}"' for n in tables)
            await conn.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))


def unavailable(what: str) -> None:
    """Skip the test, or in CI fail it, because a required service is missing."""
    import pytest

    if IN_CI:
        pytest.fail(f"{what} is required in CI but unavailable", pytrace=False)
    pytest.skip(f"{what} unavailable")
