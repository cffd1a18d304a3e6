"""Fault-test helpers: a PostgreSQL database seeded with reminder rows bound to chats, the
``duban worker`` command as a real child process, and polling with a deadline."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from sqlalchemy import func, select

from models import Assignment, DeliveryAttempt, Item, Notification, Person, Role, Unit
from models.db import create_engine, create_sessionmaker
from supervision.outbox import CHAT, EMAIL, add

ROOT = Path(__file__).resolve().parent.parent
CHAT_BASE = 700_000  # chat ids: CHAT_BASE + 1 .. CHAT_BASE + chats
REF_PREFIX = "FT"  # item refs FT00001 …, shown in every rendered reminder


def ref_of(n: int) -> str:
    """The item ref of the ``n``-th seeded row (1-based)."""
    return f"{REF_PREFIX}{n:05d}"


@dataclass(frozen=True)
class Seeded:
    """What :func:`seed_reminders` wrote: the rows' ids by item ref, and their chats."""

    ids: dict[str, int]
    chat_of: dict[str, int]


async def seed_reminders(
    url: str,
    *,
    rows: int,
    chats: int,
    channel: str = CHAT,
    not_before: datetime | None = None,
) -> Seeded:
    """``rows`` open assignments (one item each, ref ``FT00001``…) owned by ``chats`` people
    bound to Telegram chats, and one pending ``remind`` outbox row per assignment."""
    due = not_before or datetime.now(UTC) - timedelta(hours=1)
    engine = create_engine(url)
    sessions = create_sessionmaker(engine)
    ids: dict[str, int] = {}
    chat_of: dict[str, int] = {}
    try:
        async with sessions() as session, session.begin():
            unit = Unit(code="FAULT", name="市住房和城乡建设局")
            session.add(unit)
            await session.flush()
            people = []
            for i in range(1, chats + 1):
                person = Person(
                    name=f"责任人{i}",
                    email=f"owner{i}@example.gov.cn",
                    unit_id=unit.id,
                    locale="zh",
                    telegram_user_id=CHAT_BASE + i,
                    telegram_chat_id=CHAT_BASE + i,
                )
                person.set_roles({Role.OWNER})
                people.append(person)
            session.add_all(people)
            items = [
                Item(
                    ref=ref_of(n),
                    title=f"故障演练事项{n}",
                    source="instruction",
                    received_on=due.date(),
                    due_on=due.date() + timedelta(days=30),
                    urgent=False,
                )
                for n in range(1, rows + 1)
            ]
            session.add_all(items)
            await session.flush()
            assignments = [
                Assignment(
                    item_id=item.id,
                    unit_id=unit.id,
                    role="lead",
                    owner_id=people[n % chats].id,
                    due_on=item.due_on,
                )
                for n, item in enumerate(items)
            ]
            session.add_all(assignments)
            await session.flush()
            for n, (item, a) in enumerate(zip(items, assignments, strict=True)):
                owner = people[n % chats]
                address = owner.email if channel == EMAIL else str(owner.telegram_chat_id)
                nid = await add(
                    session,
                    dedupe_key=f"a{a.id}:remind:fault:p{owner.id}:{channel}",
                    kind="remind",
                    channel=channel,
                    not_before=due,
                    now=due,
                    recipient_id=owner.id,
                    address=address,
                    assignment_id=a.id,
                    item_id=item.id,
                    payload={"step": "remind", "roles": ["owner"]},
                    thread_key=f"item-{item.id}",
                )
                assert nid is not None
                ids[item.ref] = nid
                chat_of[item.ref] = int(owner.telegram_chat_id or 0)
    finally:
        await engine.dispose()
    return Seeded(ids=ids, chat_of=chat_of)


class OutboxProbe:
    """Reads the outbox of one database through one engine (cheap to poll)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.sessions = create_sessionmaker(self.engine)

    async def counts(self) -> dict[str, int]:
        """Outbox rows by status."""
        async with self.sessions() as session:
            result = await session.execute(
                select(Notification.status, func.count()).group_by(Notification.status)
            )
            return {status: n for status, n in result.all()}

    async def all_sent(self) -> bool:
        """True when every row is sent."""
        counts = await self.counts()
        return counts.get("sent", 0) == sum(counts.values())

    async def rows(self) -> list[Notification]:
        """Every outbox row, in id order."""
        async with self.sessions() as session:
            return list(
                (await session.scalars(select(Notification).order_by(Notification.id))).all()
            )

    async def attempt_outcomes(self) -> Counter[str]:
        """Delivery attempts by outcome."""
        async with self.sessions() as session:
            return Counter((await session.scalars(select(DeliveryAttempt.outcome))).all())

    async def in_flight(self, pid: int) -> int:
        """Attempts the worker with this pid started and never recorded (``host:pid``)."""
        async with self.sessions() as session:
            n = await session.scalar(
                select(func.count()).where(
                    DeliveryAttempt.outcome == "sending",
                    DeliveryAttempt.worker.like(f"%:{pid}"),
                )
            )
            return int(n or 0)

    async def close(self) -> None:
        await self.engine.dispose()


async def until(
    check: Callable[[], Awaitable[bool]],
    *,
    timeout: float,  # noqa: ASYNC109
    what: str,
    every: float = 0.25,
    progress: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Poll ``check`` until it holds; fail with ``what`` after ``timeout`` seconds.

    With ``progress`` (a reading such as the outbox counts) the timeout counts from the last
    time the reading changed: a loaded machine that is still getting on gets the time it
    needs, a run that has stalled fails ``timeout`` seconds after it stopped moving."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = await progress() if progress is not None else None
    while not await check():
        if progress is not None:
            now = await progress()
            if now != last:
                last, deadline = now, loop.time() + timeout
        if loop.time() > deadline:
            stalled = " without progress" if progress is not None else ""
            raise AssertionError(f"timed out after {timeout}s{stalled} waiting for {what}")
        await asyncio.sleep(every)


class WorkerProcess:
    """``duban worker`` as a child process, logging to a file."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.proc: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    async def start(self) -> WorkerProcess:
        """Start the worker."""
        self._log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "import sys; from duban.cli import main; sys.exit(main(sys.argv[1:]))",
            "worker",
            cwd=ROOT,
            env={**os.environ, **self.env},
            stdout=self._log,
            stderr=self._log,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, nothing is recorded."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        await self._reap(10)

    async def stop(self) -> None:
        """SIGTERM and wait (SIGKILL if it hangs)."""
        if self.proc is None or self.proc.returncode is not None:
            self._close_log()
            return
        self.proc.terminate()
        try:
            await self._reap(20)
        except TimeoutError:
            self.proc.kill()
            await self._reap(10)

    async def _reap(self, timeout: float) -> None:  # noqa: ASYNC109
        assert self.proc is not None
        async with asyncio.timeout(timeout):
            await self.proc.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        """The end of the worker's log, for failure messages."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def worker_env(
    *,
    database_url: str,
    redis_url: str,
    telegram_token: str | None = None,
    telegram_api_base: str | None = None,
    lease_seconds: float = 300.0,
    sweep_every: int = 1,
    sweep_after_seconds: float = 1.0,
    scan_interval_seconds: float = 3600.0,
    telegram_rate: float = 30.0,
    concurrency: int = 10,
) -> dict[str, str]:
    """The environment of one ``duban worker`` for a fault test."""
    env = {
        "DUBAN_DATABASE_URL": database_url,
        "DUBAN_REDIS_URL": redis_url,
        "DUBAN_SCAN_INTERVAL_SECONDS": str(scan_interval_seconds),
        "DUBAN_DELIVERY_LEASE_SECONDS": str(lease_seconds),
        "DUBAN_DELIVERY_CONCURRENCY": str(concurrency),
        "DUBAN_SWEEP_INTERVAL_SECONDS": str(sweep_every),
        "DUBAN_SWEEP_AFTER_SECONDS": str(sweep_after_seconds),
        "DUBAN_TELEGRAM_RATE": str(telegram_rate),
        "DUBAN_SECRET_KEY": "fault-test-" + "k" * 40,
        # Room for a render worker's start on a loaded machine (faults, not render limits).
        "DUBAN_RENDER_TIMEOUT_SECONDS": "30",
    }
    if telegram_token:
        env["DUBAN_TELEGRAM_TOKEN"] = telegram_token
    if telegram_api_base:
        env["DUBAN_TELEGRAM_API_BASE"] = telegram_api_base
    return env
