"""Faults: the worker killed with SIGKILL mid-delivery, Redis flushed mid-run, the SMTP server
down then back, and a burst of 429s. The outbox in PostgreSQL must lose nothing.

The Telegram tests run the fake Bot API in this process and the real arq worker as a child
process (``tests.fault_support``) against a database and a Redis database of their own.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import DeliveryAttempt, Notification
from models.db import create_engine, create_sessionmaker
from notifier.delivery import deliver_due
from notifier.templating import Renderer
from supervision.clock import FixedClock
from supervision.outbox import EMAIL
from tests.conftest import create_pg_database, drop_pg_database, unavailable
from tests.fakes.telegram import FakeTelegram
from tests.fault_support import (
    REF_PREFIX,
    WorkerProcess,
    create_schema,
    outbox,
    seed_reminders,
    status_counts,
    until,
    worker_env,
)
from tests.notifier_support import SmtpServer, free_port, limiter_for, options, registry

pytestmark = pytest.mark.slow

REF_RE = re.compile(rf"{REF_PREFIX}\d{{5}}")
ROWS, CHATS = 2000, 400


@pytest.fixture
async def fault_db() -> AsyncIterator[str]:
    """A PostgreSQL database of this test's own, with the schema (dropped after)."""
    url = await create_pg_database()
    if url is None:
        unavailable("PostgreSQL")
    assert url is not None
    await create_schema(url)
    yield url
    await drop_pg_database(url)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API: no bot-wide cap (the worker's limiter holds one), 1 msg/s per chat."""
    async with FakeTelegram(global_rate=None, per_chat_rate=1.0) as fake:
        yield fake


def sent_refs(tg: FakeTelegram) -> Counter[str]:
    """How many times the fake accepted a message for each item ref."""
    counts: Counter[str] = Counter()
    for msg in tg.sent:
        found = REF_RE.findall(msg.text)
        assert len(found) == 1, msg.text
        counts[found[0]] += 1
    return counts


async def sent_count(url: str) -> int:
    return (await status_counts(url)).get("sent", 0)


def assert_all_delivered(tg: FakeTelegram, rows: list[Notification], refs: dict[str, int]) -> None:
    """Every row is sent, reached the fake, and its recorded message is one the fake holds."""
    assert {r.status for r in rows} == {"sent"}, Counter(r.status for r in rows)
    counts = sent_refs(tg)
    assert set(counts) == set(refs), set(refs) - set(counts)
    accepted = {(m.chat_id, m.message_id) for m in tg.sent}
    for row in rows:
        assert (row.chat_id, row.chat_message_id) in accepted, row.id
        assert str(row.chat_id) == row.address


async def test_worker_killed_mid_delivery_loses_nothing(
    fault_db: str, redis_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    seeded = await seed_reminders(fault_db, rows=ROWS, chats=CHATS)
    env = worker_env(
        database_url=fault_db,
        redis_url=redis_url,
        telegram_token=tg.token,
        telegram_api_base=tg.base_url,
        lease_seconds=8,
        telegram_rate=500,
        concurrency=20,
    )
    first = await WorkerProcess(env, tmp_path / "worker1.log").start()
    try:
        await until(lambda: _at_least(tg, 300), timeout=60, what="300 messages sent")
    except AssertionError:
        await first.stop()
        raise AssertionError(first.log_tail()) from None
    await first.kill()
    at_kill = await status_counts(fault_db)
    in_flight = at_kill.get("sending", 0)
    sent_at_kill = len(tg.sent)
    assert at_kill.get("sent", 0) < ROWS, "the kill came too late to test anything"

    second = await WorkerProcess(env, tmp_path / "worker2.log").start()
    try:
        await until(
            lambda: _all_sent(fault_db), timeout=90, what="every row sent after the restart"
        )
    except AssertionError:
        raise AssertionError(f"{await status_counts(fault_db)}\n{second.log_tail()}") from None
    finally:
        await second.stop()

    rows = await outbox(fault_db)
    assert_all_delivered(tg, rows, seeded.ids)
    duplicates = len(tg.sent) - ROWS
    assert 0 <= duplicates <= in_flight, (duplicates, in_flight, at_kill)
    assert sent_at_kill < len(tg.sent)
    assert tg.violations == 0


async def test_redis_flushed_mid_run_the_sweeper_requeues(
    fault_db: str, redis_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    seeded = await seed_reminders(fault_db, rows=ROWS, chats=CHATS)
    # The scan queues everything once at start-up and not again within the test: after
    # the flush only the sweeper (every second) can bring the rows back.
    env = worker_env(
        database_url=fault_db,
        redis_url=redis_url,
        telegram_token=tg.token,
        telegram_api_base=tg.base_url,
        telegram_rate=500,
        concurrency=20,
        scan_interval_seconds=3600,
    )
    worker = await WorkerProcess(env, tmp_path / "worker.log").start()
    redis = Redis.from_url(redis_url)
    try:
        await until(lambda: _at_least(tg, 300), timeout=60, what="300 messages sent")
        await redis.flushdb()
        assert await redis.dbsize() == 0
        assert await sent_count(fault_db) < ROWS, "the flush came too late to test anything"
        await until(lambda: _all_sent(fault_db), timeout=90, what="every row sent after flush")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{await state(fault_db, worker)}") from None
    finally:
        await worker.stop()
        await redis.aclose()

    rows = await outbox(fault_db)
    assert_all_delivered(tg, rows, seeded.ids)
    # No worker died: every row was claimed under its lock exactly once.
    assert len(tg.sent) == ROWS
    assert "sweeper re-queued" in worker.log_path.read_text()
    assert tg.violations == 0


async def test_a_429_burst_loses_nothing_and_waits_retry_after(
    fault_db: str, redis_url: str, tg: FakeTelegram, tmp_path: Path
) -> None:
    rows_n = 600
    seeded = await seed_reminders(fault_db, rows=rows_n, chats=200)
    env = worker_env(
        database_url=fault_db,
        redis_url=redis_url,
        telegram_token=tg.token,
        telegram_api_base=tg.base_url,
        telegram_rate=200,
        concurrency=20,
    )
    worker = await WorkerProcess(env, tmp_path / "worker.log").start()
    try:
        await until(lambda: _at_least(tg, 100), timeout=60, what="100 messages sent")
        tg.force_429(5, retry_after=2)
        await until(lambda: _answered_429(tg, 5), timeout=30, what="the forced 429s answered")
        await until(lambda: _all_sent(fault_db), timeout=90, what="every row sent after the 429s")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{await state(fault_db, worker)}") from None
    finally:
        await worker.stop()

    rows = await outbox(fault_db)
    assert_all_delivered(tg, rows, seeded.ids)
    assert len(tg.sent) == rows_n
    too_many = [r for r in tg.requests if r.status == 429]
    assert len(too_many) >= 5
    assert tg.violations == 0, [(r.at, r.status) for r in tg.requests if r.status == 429]
    async with _sessions(fault_db) as session:
        outcomes = Counter((await session.scalars(select(DeliveryAttempt.outcome))).all())
    assert outcomes["transient"] >= 5 and outcomes["sent"] == rows_n


async def test_smtp_down_then_back_delivers_everything_once(fault_db: str) -> None:
    rows_n = 200
    seeded = await seed_reminders(fault_db, rows=rows_n, chats=50, channel=EMAIL)
    clock = FixedClock(max(r.not_before for r in await outbox(fault_db)) + timedelta(minutes=1))
    server = SmtpServer(port=free_port())
    channels = registry(mail=server.config(), clock=clock)
    limiter = limiter_for(clock)
    opts = options(retry_schedule=(10, 60, 300))
    engine = create_engine(fault_db)
    sessions = create_sessionmaker(engine)

    async def round_() -> Counter[str]:
        return await deliver_due(
            sessions,
            channels=channels,
            renderer=Renderer(),
            clock=clock,
            limiter=limiter,
            options=opts,
            concurrency=10,
        )

    try:
        assert await round_() == Counter(retry=rows_n)  # nothing listens on the port
        assert await round_() == Counter()  # not due again before the first retry time
        clock.advance(timedelta(seconds=10))
        assert await round_() == Counter(retry=rows_n)  # still down: the second retry
        server.start()
        clock.advance(timedelta(seconds=59))
        assert await round_() == Counter()  # the schedule says 60 s, not 59
        clock.advance(timedelta(seconds=1))
        assert await round_() == Counter(sent=rows_n)
        clock.advance(timedelta(hours=1))
        assert await round_() == Counter()
    finally:
        await channels.close()
        server.stop()
        await engine.dispose()

    rows = await outbox(fault_db)
    assert {r.status for r in rows} == {"sent"}
    assert all(r.attempts == 3 for r in rows)
    ids = [m["Message-ID"] for m in server.sink.messages]
    assert len(ids) == rows_n and len(set(ids)) == rows_n
    assert set(ids) == {r.provider_message_id for r in rows}
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in server.sink.messages]
    by_ref = Counter(REF_RE.findall(" ".join(subjects)))
    assert set(by_ref) == set(seeded.ids) and set(by_ref.values()) == {1}
    async with _sessions(fault_db) as session:
        outcomes = Counter((await session.scalars(select(DeliveryAttempt.outcome))).all())
    assert outcomes == Counter(transient=2 * rows_n, sent=rows_n)


async def state(url: str, worker: WorkerProcess) -> str:
    """Rows by status and the worker's last log lines, for a failure message."""
    return f"{await status_counts(url)}\n{worker.log_tail()}"


async def _at_least(tg: FakeTelegram, n: int) -> bool:
    return len(tg.sent) >= n


async def _all_sent(url: str) -> bool:
    counts = await status_counts(url)
    return counts.get("sent", 0) == sum(counts.values())


async def _answered_429(tg: FakeTelegram, n: int) -> bool:
    return sum(r.status == 429 for r in tg.requests) >= n


@asynccontextmanager
async def _sessions(url: str) -> AsyncIterator[AsyncSession]:
    """A throwaway engine and one session on it."""
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            yield session
    finally:
        await engine.dispose()
