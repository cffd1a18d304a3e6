"""The update log: every update is stored under its ``update_id`` before it is handled.

A replay of a handled update is skipped; an update whose handling failed or was cut short
by a crash stays ``pending``/``failed`` and is handled again by :func:`reprocess_pending`.

Invite tokens are never stored: the payload of ``/start <token>`` is cut from the stored copy
(`without_secrets`); the live update keeps it. An update re-handled from the log after a
crash is then a plain ``/start`` (the greeting), and the invite, not spent, still works.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from aiogram.types import Update
from sqlalchemy import Table, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from models import TelegramUpdate
from supervision.clock import Clock
from supervision.reports import Receipt

log = logging.getLogger("duban.bot")

PENDING, DONE, FAILED = "pending", "done", "failed"
MAX_ERROR = 2000
_START_WITH_PAYLOAD = re.compile(r"(/start(?:@\w+)?)\s+\S.*", re.DOTALL)


def without_secrets(payload: dict[str, Any]) -> dict[str, Any]:
    """The update as it may be stored: a ``/start`` deep-link payload (an invite token) cut."""
    for key in ("message", "edited_message"):
        message = payload.get(key)
        if not isinstance(message, dict):
            continue
        text = message.get("text")
        if isinstance(text, str) and (found := _START_WITH_PAYLOAD.fullmatch(text)):
            command = found.group(1)
            entities = [e for e in message.get("entities", []) if e.get("offset", 0) < len(command)]
            payload = {**payload, key: {**message, "text": command, "entities": entities}}
    return payload


def _insert_new(dialect: str) -> ReturningInsert[int]:
    """INSERT rows unless their update_id is stored already, RETURNING the new ids.

    A Core statement executed with a list of rows: compiled once, sent as multi-row inserts.
    """
    table = cast("Table", TelegramUpdate.__table__)
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(table.c.update_id)
    )


async def store(sessions: async_sessionmaker[AsyncSession], update: Update, clock: Clock) -> bool:
    """Keep ``update`` (once); False when it was already handled."""
    payload = without_secrets(
        update.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    )
    async with sessions() as session:
        # One statement: autocommit spares the BEGIN and COMMIT round trips.
        conn = await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        row = {
            "update_id": update.update_id,
            "received_at": clock.now(),
            "payload": payload,
            "status": PENDING,
            "attempts": 0,
        }
        if (await conn.execute(_insert_new(conn.dialect.name), [row])).first() is not None:
            return True
        status = await conn.scalar(
            select(TelegramUpdate.status).where(TelegramUpdate.update_id == update.update_id)
        )
        return status != DONE


async def store_handled(
    session: AsyncSession, raw: Sequence[tuple[int, dict[str, Any]]], clock: Clock
) -> set[int]:
    """Keep updates (id, raw JSON) as ``done`` in the caller's transaction, in one statement.

    Returns the ids stored now; the others were stored before (a replay, or an update whose
    handling failed) and are left alone for the normal path, which knows what to do with them.
    The mark commits only with the handler's changes, as :func:`claim`'s does.
    """
    if not raw:
        return set()
    now = clock.now()
    rows = [
        {
            "update_id": update_id,
            "received_at": now,
            "payload": without_secrets(payload),
            "status": DONE,
            "attempts": 1,
            "processed_at": now,
        }
        for update_id, payload in sorted(raw, key=lambda r: r[0])
    ]  # in id order: two batches waiting on each other's ids (replays) cannot deadlock
    conn = await session.connection()
    return {row[0] for row in await session.execute(_insert_new(conn.dialect.name), rows)}


class UpdateReceipts:
    """The update log as the report filer's receipt log (`supervision.reports.ReceiptLog`):
    a reply's update is stored ``done`` in the transaction that files its report."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    async def claim(self, session: AsyncSession, receipts: Sequence[Receipt]) -> set[int]:
        """Store the updates as handled; the ids stored now (the others were seen before)."""
        return await store_handled(session, [(r.key, r.record) for r in receipts], self.clock)

    async def release(self, session: AsyncSession, keys: Sequence[int]) -> None:
        """Back to ``pending``: the handlers answer them the ordinary way."""
        await reopen(session, keys)


async def reopen(session: AsyncSession, update_ids: Sequence[int]) -> None:
    """Put updates stored by :func:`store_handled` back to ``pending`` (not handled after all)."""
    if update_ids:
        await session.execute(
            update(TelegramUpdate)
            .where(TelegramUpdate.update_id.in_(update_ids))
            .values(status=PENDING, attempts=0, processed_at=None)
        )


async def claim(session: AsyncSession, update_id: int, clock: Clock) -> bool:
    """Lock the stored update and mark it done in the handler's transaction.

    The mark commits only with the handler's changes; False when it was already handled.
    """
    result = await session.execute(
        update(TelegramUpdate)
        .where(TelegramUpdate.update_id == update_id, TelegramUpdate.status != DONE)
        .values(
            status=DONE,
            attempts=TelegramUpdate.attempts + 1,
            processed_at=clock.now(),
            error=None,
        )
        .returning(TelegramUpdate.update_id)
    )
    return result.scalar_one_or_none() is not None


async def done(sessions: async_sessionmaker[AsyncSession], update_id: int, clock: Clock) -> None:
    """Mark an update handled on its own (after a rolled-back handler that answered)."""
    async with sessions() as session, session.begin():
        await claim(session, update_id, clock)


async def fail(
    sessions: async_sessionmaker[AsyncSession], update_id: int, error: str, clock: Clock
) -> None:
    """Mark an update failed but retryable, with the error (no secrets: it is an exception text)."""
    async with sessions() as session, session.begin():
        row = await session.get(TelegramUpdate, update_id, with_for_update=True)
        if row is None or row.status == DONE:
            return
        row.status = FAILED
        row.attempts += 1
        row.processed_at = clock.now()
        row.error = error[:MAX_ERROR]


async def pending(
    sessions: async_sessionmaker[AsyncSession], *, max_attempts: int, limit: int = 500
) -> Sequence[dict[str, Any]]:
    """Stored updates not handled yet (and not given up on), oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(TelegramUpdate)
            .where(
                TelegramUpdate.status.in_((PENDING, FAILED)),
                TelegramUpdate.attempts < max_attempts,
            )
            .order_by(TelegramUpdate.update_id)
            .limit(limit)
        )
        return [row.payload for row in rows]


async def reprocess_pending(
    sessions: async_sessionmaker[AsyncSession],
    feed: Callable[[Update], Awaitable[Any]],
    *,
    max_attempts: int,
    clock: Clock,
) -> int:
    """Handle again every stored update that is not done; return how many were fed."""
    fed = 0
    for payload in await pending(sessions, max_attempts=max_attempts):
        try:
            update = Update.model_validate(payload)
        except ValueError as exc:
            update_id = int(payload.get("update_id", 0))
            log.error("stored update %s cannot be parsed; skipped", update_id)
            await fail(sessions, update_id, f"unparseable: {exc.__class__.__name__}", clock)
            continue
        await feed(update)
        fed += 1
    return fed
