"""The scan's outbox writers write the row shape of supervision.outbox, and skip existing keys."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Notification
from notifier.outbox_writers import GenericWriter, OutboxWriter, PgCopyWriter, writer_for
from supervision.outbox import COLUMNS, OutboxRow, add, item_thread_key

# The COPY writer is PostgreSQL's; the generic one must agree with it on both dialects.
pytestmark = pytest.mark.dialects


def _rows(now, *, assignment_id: int, keys: list[str]) -> list[OutboxRow]:
    payload = {"step": "remind", "occurrence": "2026-12-07"}
    return [
        OutboxRow(
            key, "remind", "email", now + timedelta(hours=1), payload, "en", f"{key}@b.cn",
            item_thread_key(7), assignment_id, 7, recipient_id=3,
        )
        for key in keys
    ]  # fmt: skip


def _columns(row: Notification) -> dict[str, object]:
    return {name: getattr(row, name) for name in COLUMNS if name != "dedupe_key"}


def _writers(sessions) -> list[OutboxWriter]:
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    return [GenericWriter(), PgCopyWriter()] if postgres else [GenericWriter()]


async def test_each_writer_writes_what_add_writes_and_skips_existing_keys(sessions, clock):
    now = clock.now()
    for n, writer in enumerate(_writers(sessions)):
        a = 100 + n
        first = _rows(now, assignment_id=a, keys=[f"w{n}-1", f"w{n}-2"])
        async with sessions() as session, session.begin():
            assert await writer.outbox(session, first, now) == Counter({(a, "remind"): 2})
        again = _rows(now, assignment_id=a, keys=[f"w{n}-2", f"w{n}-3"])
        async with sessions() as session, session.begin():
            assert await writer.outbox(session, again, now) == Counter({(a, "remind"): 1})
            [model] = _rows(now, assignment_id=a, keys=[f"w{n}-add"])
            await add(
                session, dedupe_key=model.dedupe_key, kind=model.kind, channel=model.channel,
                not_before=model.not_before, now=now, recipient_id=model.recipient_id,
                address=f"w{n}-1@b.cn", assignment_id=a, item_id=model.item_id,
                locale=model.locale, payload=model.payload, thread_key=model.thread_key,
            )  # fmt: skip
        async with sessions() as session:
            rows = {
                r.dedupe_key: r
                for r in await session.scalars(
                    select(Notification).where(Notification.assignment_id == a)
                )
            }
        assert sorted(rows) == [f"w{n}-1", f"w{n}-2", f"w{n}-3", f"w{n}-add"]
        # Every column a writer fills holds what add() stores for the same row.
        assert _columns(rows[f"w{n}-1"]) == _columns(rows[f"w{n}-add"])
        assert rows[f"w{n}-1"].status == "pending" and rows[f"w{n}-1"].created_at == now
        assert rows[f"w{n}-1"].thread_key == "item-7"


async def test_the_copy_writer_is_chosen_on_postgresql_only(sessions):
    async with sessions() as session:
        writer = writer_for(session)
    postgres = sessions.kw["bind"].dialect.name == "postgresql"
    assert isinstance(writer, PgCopyWriter if postgres else GenericWriter)


def test_thread_key_is_per_item():
    assert item_thread_key(12) == "item-12"
    assert item_thread_key(None) is None
