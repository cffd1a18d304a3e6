"""Login throttling and password checks off the event loop.

Imports `models/` and `supervision/` only. Failed logins are counted per account and per
client address in ``login_throttle``, each count one upsert (no read-then-write), so parallel
guesses each get their own number. An attempt is counted *before* the password is checked
and waits ``delay_for`` the failures before it (bounded); a right password then clears the
account's count and gives back its own address count. Nobody is ever refused outright: the
right password from a throttled address or for a throttled account gets in after the wait.

Argon2 runs in threads, at most ``concurrency`` at once, so a flood of logins cannot stall
the event loop (health checks, the webhook, the bot).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final, cast

from aiohttp import web
from sqlalchemy import Table, case, delete, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from models import LoginThrottle
from supervision.accounts import hash_password, verify_password

#: Failures before any wait; then 1 s, 2 s, 4 s, ... up to ``MAX_DELAY``.
FREE_FAILURES: Final = 5
BASE_DELAY: Final = 1.0
MAX_DELAY: Final = 30.0
WINDOW: Final = timedelta(minutes=15)

Sleep = Callable[[float], Awaitable[None]]
Verify = Callable[[str | None, str], bool]
Hash = Callable[[str], str]


def delay_for(failures: int) -> float:
    """Seconds an attempt waits after ``failures`` counted failures (0 for the first few)."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(MAX_DELAY, BASE_DELAY * 2.0 ** min(failures - FREE_FAILURES, 32))


def account_key(email: str) -> str:
    """The throttle key of an account (by normalised e-mail, known or not)."""
    return f"account:{email}"


def address_key(address: str) -> str:
    """The throttle key of a client address."""
    return f"ip:{address}"


def client_address(request: web.Request, proxy_hops: int) -> str:
    """The client's address: the TCP peer, or with ``proxy_hops`` trusted proxies the entry
    they appended to X-Forwarded-For (entries further left are whatever the client sent)."""
    if proxy_hops > 0:
        hops = [
            part.strip()
            for header in request.headers.getall("X-Forwarded-For", [])
            for part in header.split(",")
            if part.strip()
        ]
        if hops:
            return hops[-proxy_hops] if len(hops) >= proxy_hops else hops[0]
    return request.remote or ""


async def count_attempt(session: AsyncSession, keys: Sequence[str], now: datetime) -> int:
    """Count one attempt under every key, atomically; the highest count (this one included)."""
    table = cast("Table", LoginThrottle.__table__)
    dialect = (await session.connection()).dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    highest = 0
    for key in sorted(keys):  # one order for everyone: parallel upserts cannot deadlock
        stale = table.c.window_start <= now - WINDOW
        stmt = (
            insert(table)
            .values(key=key, failures=1, window_start=now)
            .on_conflict_do_update(
                index_elements=[table.c.key],
                set_={
                    "failures": case((stale, 1), else_=table.c.failures + 1),
                    "window_start": case((stale, now), else_=table.c.window_start),
                },
            )
            .returning(table.c.failures)
        )
        highest = max(highest, int((await session.execute(stmt)).scalar_one()))
    return highest


async def forgive(session: AsyncSession, *, account: str, address: str, now: datetime) -> None:
    """After a right password: clear the account's count, give back this attempt's address
    count (the address keeps its other failures). Counts whose window has passed are
    dropped too (they would restart at 1 anyway), so guessed e-mails do not pile up."""
    await session.execute(
        delete(LoginThrottle).where(
            (LoginThrottle.key == account) | (LoginThrottle.window_start <= now - WINDOW)
        )
    )
    await session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == address, LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1)
    )


@dataclass
class LoginGuard:
    """Holds the wait and the bounded password checker shared by every login of a process."""

    concurrency: int = 2
    sleep: Sleep = asyncio.sleep
    verify: Verify = verify_password
    hash: Hash = hash_password
    _slots: asyncio.Semaphore | None = field(default=None, init=False, repr=False)

    async def wait(self, failures: int) -> None:
        """Sleep the delay that ``failures`` earlier failures call for."""
        delay = delay_for(failures)
        if delay > 0:
            await self.sleep(delay)

    async def check_password(self, password_hash: str | None, password: str) -> bool:
        """``verify`` in a thread, at most ``concurrency`` hashes at once."""
        async with self._hashing():
            return await asyncio.to_thread(self.verify, password_hash, password)

    async def hash_password(self, password: str) -> str:
        """``hash`` (argon2id; ValidationFailed for a short password) in a thread, bounded the
        same way: setting passwords on the people page cannot stall the loop either."""
        async with self._hashing():
            return await asyncio.to_thread(self.hash, password)

    def _hashing(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.concurrency)
        return self._slots
