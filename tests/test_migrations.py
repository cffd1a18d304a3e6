"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from models import Base, due_in_force, lead_unit_name
from models.base import include_for
from models.db import create_engine, is_sqlite
from models.migrate import alembic_config, upgrade
from testing.databases import create_pg_database, drop_pg_database, unavailable

DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
pytestmark = pytest.mark.xdist_group("migrations")


async def _new_database(dialect: str, tmp_path: Path) -> str:
    if dialect == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    url = await create_pg_database(durable=False)
    if url is None:
        unavailable("PostgreSQL")
    assert url is not None
    return url


async def _drop_database(url: str) -> None:
    if not is_sqlite(url):
        await drop_pg_database(url)


@pytest.fixture(params=DIALECTS)
async def fresh_engine(request, tmp_path) -> AsyncIterator[AsyncEngine]:
    """A brand-new empty database, for a test that migrates it step by step."""
    url = await _new_database(request.param, tmp_path)
    engine = create_engine(url)
    yield engine
    await engine.dispose()
    await _drop_database(url)


@pytest.fixture(scope="module", params=DIALECTS)
def migrated_url(request, tmp_path_factory) -> Iterator[str]:
    """A database migrated by Alembic only, from empty to the last revision, shared by the
    module's tests that only read the schema (migrating costs about a second)."""
    url = asyncio.run(_new_database(request.param, tmp_path_factory.mktemp("migrated")))

    async def migrate() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    yield url
    asyncio.run(_drop_database(url))


@pytest.fixture
async def migrated(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on the migrated database (read the schema; change nothing)."""
    engine = create_engine(migrated_url)
    yield engine
    await engine.dispose()


async def test_models_match_migrations(migrated):
    await upgrade(migrated)  # idempotent: the fixture ran every migration already

    def diff(conn):
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "render_as_batch": is_sqlite(migrated),
                "include_object": include_for(conn.dialect.name),
            },
        )
        return compare_metadata(ctx, Base.metadata)

    async with migrated.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == [], f"models and migrations differ; add a migration: {changes}"


async def test_the_text_search_index_is_trigrams_on_postgresql_only(migrated):
    """0015, 0024: the items' lowered title and 文号 in one GIN index of trigrams (pg_trgm)
    on PostgreSQL, the index `supervision.search` relies on (on the columns themselves it
    served lookups by 文号 too, badly); SQLite gets none (it scans)."""
    async with migrated.connect() as conn:
        if is_sqlite(migrated):
            names = (await conn.execute(text("SELECT name FROM sqlite_master"))).scalars().all()
            assert "ix_items_text_trgm" not in names
            return
        definition = await conn.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_items_text_trgm'")
        )
    assert definition is not None
    lowered = "lower((title)::text) gin_trgm_ops, lower((ref)::text) gin_trgm_ops"
    assert f"USING gin ({lowered})" in definition


async def test_the_open_items_index_holds_the_open_items_only(migrated):
    """0019: the dashboard's overdue list walks ``ix_items_open_due``, the open items in the
    list's order; partial on both databases, so the closed history is not in it."""
    async with migrated.connect() as conn:
        if is_sqlite(migrated):
            query = "SELECT sql FROM sqlite_master WHERE name = 'ix_items_open_due'"
        else:
            query = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_items_open_due'"
        definition = str(await conn.scalar(text(query)))
    assert "due_in_force, ref, id" in definition.replace('"', "")
    assert "WHERE" in definition and "'completion_requested'" in definition


async def test_the_deadline_in_force_triggers_survive_every_migration(migrated):
    """0016: `models.due_in_force`'s triggers exist after the last migration (on SQLite a
    later batch migration that rebuilds ``items`` or ``assignments`` drops them: re-create
    them there)."""
    async with migrated.connect() as conn:
        if is_sqlite(migrated):
            query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
            expected = {s.split()[2] for s in due_in_force.SQLITE + lead_unit_name.SQLITE}
        else:
            query = "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
            expected = {"items_due_in_force", "units_lead_unit_name_update"} | {
                f"assignments_{kept}_{event}"
                for kept in ("due_in_force", "lead_unit_name")
                for event in ("insert", "update", "delete")
            }
        names = set((await conn.execute(text(query))).scalars().all())
    assert expected <= names


def upgrade_on(engine):
    """``to(conn, revision)``: upgrade ``engine``'s database to ``revision`` on ``conn``
    (inside the caller's transaction, which then writes rows of that revision)."""
    url = engine.url.render_as_string(hide_password=False)

    def to(conn, revision: str) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = conn
        command.upgrade(config, revision)

    return to


async def test_0016_fills_the_deadline_in_force_of_existing_items(fresh_engine):
    """An office upgrading with items already stored gets their deadline in force (the lead
    assignment's, moved by an extension) and the triggers that keep it."""
    to = upgrade_on(fresh_engine)

    async with fresh_engine.begin() as conn:
        await conn.run_sync(to, "0015")
        await conn.execute(
            text(
                "INSERT INTO units (id, code, name, active, created_at)"
                " VALUES (1, 'U', '甲局', true, '2026-01-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO items (id, ref, title, source, objective, content, received_on,"
                " due_on, due_is_provisional, due_is_default, urgent, state, updated_at,"
                " created_at) VALUES (1, 'R-1', '事项', 'other', '', '', '2026-01-05',"
                " '2026-02-02', false, false, false, 'open', '2026-01-05', '2026-01-05')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO assignments (item_id, unit_id, role, state, due_on, created_at,"
                " updated_at) VALUES (1, 1, 'lead', 'open', '2026-03-03', '2026-01-05',"
                " '2026-01-05')"
            )
        )
    await upgrade(fresh_engine)
    async with fresh_engine.begin() as conn:
        assert str(await conn.scalar(text("SELECT due_in_force FROM items"))) == "2026-03-03"
        await conn.execute(text("UPDATE assignments SET due_on = '2026-04-04'"))
        assert str(await conn.scalar(text("SELECT due_in_force FROM items"))) == "2026-04-04"


async def test_0023_fills_the_lead_unit_name_of_existing_items(fresh_engine):
    """An office upgrading with items already stored gets each one's lead unit name (the
    first by name of its leads; a co unit does not count) and the triggers that keep it."""
    to = upgrade_on(fresh_engine)

    async with fresh_engine.begin() as conn:
        await conn.run_sync(to, "0022")
        await conn.execute(
            text(
                "INSERT INTO units (id, code, name, active, created_at) VALUES"
                " (1, 'B', 'B局', true, '2026-01-01'), (2, 'A', 'A局', true, '2026-01-01'),"
                " (3, 'C', 'C局', true, '2026-01-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO items (id, ref, title, source, objective, content, received_on,"
                " due_on, due_is_provisional, due_is_default, urgent, state, updated_at,"
                " created_at) VALUES (1, 'R-1', '事项', 'other', '', '', '2026-01-05',"
                " '2026-02-02', false, false, false, 'open', '2026-01-05', '2026-01-05')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO assignments (item_id, unit_id, role, state, due_on, created_at,"
                " updated_at) VALUES (1, 1, 'lead', 'open', '2026-03-03', '2026-01-05',"
                " '2026-01-05'), (1, 3, 'co', 'open', '2026-03-03', '2026-01-05', '2026-01-05')"
            )
        )
    await upgrade(fresh_engine)
    async with fresh_engine.begin() as conn:
        assert await conn.scalar(text("SELECT lead_unit_name FROM items")) == "B局"
        await conn.execute(text("UPDATE assignments SET unit_id = 2 WHERE role = 'lead'"))
        assert await conn.scalar(text("SELECT lead_unit_name FROM items")) == "A局"


async def test_0020_and_0021_fill_pinyin_and_shown_urls_of_stored_rows(fresh_engine):
    """People stored before 0020 get their name's pinyin and initials; robots stored before
    0021 keep their URL in clear (sealed when next saved) and get it shown masked."""
    to = upgrade_on(fresh_engine)
    hook = "https://open.feishu.cn/open-apis/bot/v2/hook/abcdef123"

    async with fresh_engine.begin() as conn:
        await conn.run_sync(to, "0017")
        await conn.execute(
            text(
                "INSERT INTO people (name, locale, active, created_at)"
                " VALUES ('单雄信', 'zh', true, '2026-01-01')"
            )
        )
        await conn.execute(
            text(
                "INSERT INTO group_webhooks (name, kind, url, scope, active, created_at)"
                " VALUES ('群', 'feishu', :url, 'unit', true, '2026-01-01')"
            ),
            {"url": hook},
        )
    await upgrade(fresh_engine)
    async with fresh_engine.begin() as conn:
        people = (await conn.execute(text("SELECT name_pinyin, name_initials FROM people"))).all()
        assert [tuple(r) for r in people] == [("shan xiong xin", "sxx")]
        shown = text("SELECT url, url_shown, steps FROM group_webhooks")
        robots = (await conn.execute(shown)).all()
        assert [tuple(r) for r in robots] == [
            (hook, "https://open.feishu.cn/open-apis/bot/v2/hook/***", None)
        ]
