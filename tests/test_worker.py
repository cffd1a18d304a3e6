"""The arq worker against a real Redis, drained with a burst worker inside the test; the Redis
rate limiter shared by several workers."""

from __future__ import annotations

import asyncio
import math
import os
import signal
import sys
from dataclasses import replace
from datetime import datetime, timedelta
from email.header import decode_header, make_header

import pytest
from arq.connections import RedisSettings, create_pool
from arq.constants import in_progress_key_prefix, job_key_prefix
from arq.worker import Worker
from redis.asyncio import Redis
from sqlalchemy import select

from models import Notification
from notifier.channels.base import ChannelRegistry
from notifier.channels.log import LogChannel
from notifier.channels.telegram import TelegramChannel
from notifier.config import NotifierConfig
from notifier.ratelimit import Rate, RedisLimiter
from notifier.templating import Renderer, RenderLimits, RenderPool
from notifier.worker import (
    DeliveryWorker,
    NotifierDeps,
    deliver_rows,
    delivery_jobs,
    enqueue_due,
    enqueue_jobs,
    job_send_by,
    maintenance_settings,
    rows_per_job,
    shutdown,
    startup,
    sweep,
    worker_settings,
)
from supervision.calendar import WorkCalendar
from supervision.outbox import notify_person
from testing.fakes.telegram import FakeTelegram
from testing.fault_support import until
from testing.load import loaded_seconds
from testing.notifier_support import (
    SmtpServer,
    clock_sleep,
    limiter_for,
    registry,
    reminder,
)

pytestmark = pytest.mark.redis

#: Render workers with a generous limit: these tests check queueing and delivery, and a
#: worker's first render on a loaded machine (parallel test processes) can pass the 2 s default.
ROOMY_POOL = RenderPool(RenderLimits(timeout_seconds=30))


@pytest.fixture(scope="module", autouse=True)
def _roomy_pool_stops():
    yield
    ROOMY_POOL.close()


@pytest.fixture
async def tg():
    async with FakeTelegram(global_rate=None, per_chat_rate=None) as fake:
        yield fake


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
async def arq_redis(redis_url):
    pool = await create_pool(RedisSettings.from_dsn(redis_url))
    yield pool
    await pool.aclose()


def deps_for(sessions, clock, redis_url, channels, scan=None) -> NotifierDeps:
    return NotifierDeps(
        config=NotifierConfig(redis_url=redis_url, retry_schedule=(10, 60), sweep_after_seconds=60),
        sessions=sessions,
        clock=clock,
        scan=scan,
        channels=channels,
        renderer=Renderer(pool=ROOMY_POOL),
        limiter_factory=lambda r: RedisLimiter(r, clock=clock, sleep=clock_sleep(clock)),
    )


async def burst(settings: dict, kind: type[Worker] = Worker) -> Worker:
    worker = kind(**settings)
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return worker


async def drain(deps: NotifierDeps, *, crons: tuple[str, ...] = ()) -> Worker:
    """Run the named cron jobs once (a burst maintenance worker), then a burst delivery worker
    until its queue is empty; returns the delivery worker."""
    if crons:
        await upkeep(deps, crons)
    return await burst(
        worker_settings(deps, burst=True, handle_signals=False, poll_delay=0.05), DeliveryWorker
    )


async def upkeep(deps: NotifierDeps, crons: tuple[str, ...]) -> Worker:
    """A burst maintenance worker with only the named cron jobs (run at its start)."""
    settings = maintenance_settings(deps, burst=True, handle_signals=False, poll_delay=0.05)
    settings["cron_jobs"] = [c for c in settings["cron_jobs"] if c.name in crons]
    return await burst(settings)


async def statuses(sessions) -> list[str]:
    async with sessions() as s:
        return list((await s.scalars(select(Notification.status).order_by(Notification.id))).all())


#: the rows of a job of a worker with the default concurrency
PER_JOB = rows_per_job(NotifierConfig().concurrency)


def jobs_now(ids, clock, per_job: int = PER_JOB):
    """The delivery jobs of rows ``ids`` due now."""
    return delivery_jobs([(i, clock.now()) for i in ids], per_job=per_job)


async def queued_ids(arq_redis) -> list[str]:
    return [j.decode() for j in await arq_redis.zrange(arq_redis.default_queue_name, 0, -1)]


async def test_worker_delivers_a_batch_of_rows_in_one_job(
    sessions, clock, redis_url, arq_redis, tg, smtp
):
    case = await reminder(sessions, clock, channels=("chat", "email"))
    channels = registry(telegram=tg, mail=smtp.config(), clock=clock)
    first, second = case.ids
    now = clock.now()
    jobs = jobs_now(case.ids, clock, per_job=2)
    if first // 2 != second // 2:  # the two rows straddle two blocks of two: one block of four
        jobs = jobs_now(case.ids, clock, per_job=4)
    [job] = jobs
    assert job.first <= first < second <= job.last
    assert job.job_id == f"deliver:{job.second}:{job.first}-{job.last}"
    assert job.second == math.ceil(now.timestamp())  # due now: by the second that starts next
    assert await enqueue_jobs(arq_redis, jobs, now=clock.now()) == 1
    assert await enqueue_jobs(arq_redis, jobs, now=clock.now()) == 0  # queued: not again

    worker = await drain(deps_for(sessions, clock, redis_url, channels))
    await channels.close()

    assert worker.jobs_complete == 1 and worker.jobs_failed == 0  # one job, both rows
    assert await statuses(sessions) == ["sent", "sent"]
    [msg] = tg.sent
    assert msg.reply_markup is not None and len(smtp.sink.messages) == 1
    async with sessions() as s:
        chat_row = await s.get(Notification, case.ids[0])
    assert chat_row.chat_message_id == msg.message_id


async def test_a_delivery_worker_reads_the_queue_as_soon_as_a_job_ends(
    sessions, clock, redis_url, arq_redis, tg
):
    """arq reads its queue on a timer (here an hour); the delivery worker also reads it when a
    job ends, so the next job of a backlog starts at once, not at the next timed read."""
    case = await reminder(sessions, clock, channels=("chat",))
    first = case.ids
    await reminder(sessions, clock, channels=("chat",), occurrence="2026-11-09", case=case)
    jobs = jobs_now([*first, *case.ids], clock, per_job=1)
    assert await enqueue_jobs(arq_redis, jobs, now=clock.now()) == 2
    channels = registry(telegram=tg)
    deps = deps_for(sessions, clock, redis_url, channels)
    # One job at a time: the second one waits for a read of the queue.
    settings = worker_settings(deps, handle_signals=False, poll_delay=3600, max_jobs=1)
    worker = DeliveryWorker(**settings)
    running = asyncio.ensure_future(worker.async_run())
    try:

        async def both_sent() -> bool:
            return await statuses(sessions) == ["sent", "sent"]

        await until(both_sent, timeout=loaded_seconds(30), what="both jobs run")
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await worker.close()
        await channels.close()
    assert worker.jobs_complete == 2 and len(tg.sent) == 2


def test_delivery_jobs_group_rows_by_second_and_block(clock):
    now = clock.now()
    second = int(now.timestamp())
    later = now + timedelta(seconds=9.2)
    jobs = delivery_jobs([(7, now), (3, now), (4, now), (5, later), (9, now)], per_job=4)
    assert [(j.second, j.first, j.last) for j in jobs] == [
        (second, 0, 3),  # row 3
        (second, 4, 7),  # rows 4 and 7
        (second, 8, 11),  # row 9
        (second + 10, 4, 7),  # row 5, due 9.2 s later: by the second after
    ]


async def test_worker_queues_the_email_fallback(sessions, clock, redis_url, arq_redis, tg, smtp):
    tg.block(555)
    case = await reminder(sessions, clock, channels=("chat",), email="wang@example.gov.cn")
    channels = registry(telegram=tg, mail=smtp.config(), clock=clock)
    await enqueue_jobs(arq_redis, jobs_now(case.ids, clock), now=clock.now())
    await drain(deps_for(sessions, clock, redis_url, channels))
    await channels.close()
    assert await statuses(sessions) == ["failed", "sent"]
    assert [str(make_header(decode_header(m["To"]))) for m in smtp.sink.messages] == [
        "王建国 <wang@example.gov.cn>"
    ]


async def test_a_job_queues_its_retries_at_their_second(sessions, clock, redis_url, arq_redis, tg):
    """A transient failure makes the row due again later: the job queues the job of that
    second (rows that were sent are not queued again)."""
    sent = await reminder(sessions, clock, chat_id=701, channels=("chat",))
    failing = await reminder(sessions, clock, chat_id=702, channels=("chat",))
    ids = [*sent.ids, *failing.ids]
    tg.fail_next(1)  # the first send (the lower id) fails with a 500
    ctx = {"deps": deps_for(sessions, clock, redis_url, registry(telegram=tg)), "redis": arq_redis}
    await startup(ctx)
    [job] = jobs_now(ids, clock, per_job=64)
    assert await deliver_rows(ctx, job.first, job.last) == "retry=1 sent=1"
    await shutdown(ctx)
    await ctx["deps"].channels.close()
    async with sessions() as s:
        row = await s.get_one(Notification, min(ids))
    assert row.status == "pending" and row.next_attempt_at == clock.now() + timedelta(seconds=10)
    [retry] = delivery_jobs([(row.id, row.next_attempt_at)], per_job=PER_JOB)
    assert await queued_ids(arq_redis) == [retry.job_id]
    assert retry.second == math.ceil(row.next_attempt_at.timestamp())  # due by that second


@pytest.mark.slow
async def test_sweeper_requeues_after_redis_is_flushed(sessions, clock, redis_url, arq_redis, tg):
    cases = [
        await reminder(sessions, clock, chat_id=1000 + n, channels=("chat",)) for n in range(5)
    ]
    ids = [i for case in cases for i in case.ids]
    await enqueue_jobs(arq_redis, jobs_now(ids, clock), now=clock.now())
    await arq_redis.flushdb()  # Redis lost every job; the outbox still has the rows
    channels = registry(telegram=tg)
    deps = deps_for(sessions, clock, redis_url, channels)
    await drain(deps, crons=("sweep",))
    assert tg.sent == []  # just due: their jobs may still be on the way
    clock.advance(timedelta(seconds=61))  # due longer than sweep_after: the jobs were lost
    worker = await drain(deps, crons=("sweep",))
    await channels.close()
    assert await statuses(sessions) == ["sent"] * 5
    assert sorted(m.chat_id for m in tg.sent) == [1000, 1001, 1002, 1003, 1004]
    assert worker.jobs_complete == len(jobs_now(ids, clock))


async def orphaned(sessions, clock, n: int) -> list[int]:
    """``n`` chat reminders due now whose jobs are in no queue."""
    return [
        (await reminder(sessions, clock, chat_id=2000 + k, channels=("chat",))).ids[0]
        for k in range(n)
    ]


async def test_bulk_enqueue_queues_only_what_is_not_queued(
    sessions, clock, redis_url, arq_redis, tg
):
    ids = await orphaned(sessions, clock, 5)
    jobs = jobs_now(ids, clock, per_job=2)
    assert len(jobs) >= 3
    assert await enqueue_jobs(arq_redis, jobs[:1], now=clock.now()) == 1
    done = await enqueue_due(arq_redis, sessions, now=clock.now(), per_job=2, batch=2)
    assert (done.read, done.queued, done.cursor) == (5, len(jobs) - 1, None)
    assert await enqueue_jobs(arq_redis, jobs, now=clock.now()) == 0  # all there
    assert sorted(await queued_ids(arq_redis)) == sorted(j.job_id for j in jobs)
    channels = registry(telegram=tg)
    worker = await drain(deps_for(sessions, clock, redis_url, channels))
    await channels.close()
    assert worker.jobs_complete == len(jobs) and await statuses(sessions) == ["sent"] * 5
    assert sorted(m.chat_id for m in tg.sent) == [2000, 2001, 2002, 2003, 2004]


async def test_a_sweep_looks_at_a_bounded_batch_and_continues_where_it_stopped(
    sessions, clock, redis_url, arq_redis, tg
):
    """A backlog is swept a slice per run (it used to be read and queued whole, each run)."""
    ids = await orphaned(sessions, clock, 7)
    deps = deps_for(sessions, clock, redis_url, registry(telegram=tg))
    # one row a job, so that the jobs count the rows
    deps.config = replace(deps.config, sweep_limit=3, sweep_after_seconds=0, concurrency=1)
    ctx = {"deps": deps, "redis": arq_redis}
    await startup(ctx)
    queue = arq_redis.default_queue_name
    runs = []
    for _ in range(4):
        runs.append(await sweep(ctx))
        runs.append(await arq_redis.zcard(queue))
    assert runs == [
        "re-queued 3 jobs for 3 due rows", 3,
        "re-queued 3 jobs for 3 due rows", 6,
        "re-queued 1 jobs for 1 due rows", 7,  # the end: the next run starts from the oldest
        "re-queued 0 jobs for 3 due rows", 7,  # queued already: nothing is queued twice
    ]  # fmt: skip
    assert sorted(await queued_ids(arq_redis)) == sorted(j.job_id for j in jobs_now(ids, clock, 1))
    await shutdown(ctx)


async def test_a_row_whose_job_a_dead_worker_holds_is_taken_over(
    sessions, clock, redis_url, arq_redis, tg
):
    """A worker killed mid-send leaves its job "in progress" in arq, which runs it again only
    after the lease and 10 s more, and its row 'sending': once the lease ran out the row is
    due at the lease's end, and the sweeper queues the job of that second."""
    [nid] = await orphaned(sessions, clock, 1)
    [dead] = jobs_now([nid], clock)
    assert await enqueue_jobs(arq_redis, [dead], now=clock.now())  # its key stays
    queue = arq_redis.default_queue_name
    await arq_redis.zrem(queue, dead.job_id)
    await arq_redis.set(in_progress_key_prefix + dead.job_id, b"1")  # held by the dead worker
    # A pending row stale for the sweeper whose job is held (between its start and its
    # claim): left to arq, which runs that job again.
    assert (await enqueue_due(arq_redis, sessions, now=clock.now(), per_job=PER_JOB)).queued == 0
    clock.advance(timedelta(seconds=61))
    lease_end = clock.now() - timedelta(seconds=1)
    async with sessions() as s, s.begin():
        row = await s.get_one(Notification, nid)
        row.status, row.next_attempt_at = "sending", lease_end
    done = await enqueue_due(arq_redis, sessions, now=clock.now(), per_job=PER_JOB, stale_for=60)
    assert done.queued == 1
    [takeover] = delivery_jobs([(nid, lease_end)], per_job=PER_JOB)
    assert takeover.job_id != dead.job_id
    assert await queued_ids(arq_redis) == [takeover.job_id]
    assert (
        await enqueue_due(arq_redis, sessions, now=clock.now(), per_job=PER_JOB, stale_for=60)
    ).queued == 0
    assert await arq_redis.exists(job_key_prefix + dead.job_id)
    channels = registry(telegram=tg)
    await drain(deps_for(sessions, clock, redis_url, channels))
    await channels.close()
    assert await statuses(sessions) == ["sent"] and len(tg.sent) == 1


@pytest.mark.parametrize("concurrency", [1, 2, 3, 10, 30])
def test_a_job_is_the_runners_batch_and_its_timeout_the_lease(concurrency):
    """A delivery job claims as many rows as the runner's batch (``concurrency``); arq cuts
    it off at the lease, and it stops starting sends at half of it (``job_send_by``)."""
    config = NotifierConfig(concurrency=concurrency, lease_seconds=8)
    deps = NotifierDeps(config=config, sessions=None)  # type: ignore[arg-type]
    assert rows_per_job(concurrency) == concurrency
    assert worker_settings(deps)["job_timeout"] == config.lease_seconds
    start = datetime(2026, 11, 2, 9, 0)
    assert job_send_by(start, config.lease_seconds) == start + timedelta(seconds=4)


class SlowBlockedTelegram(TelegramChannel):
    """The fake's Telegram channel; each send takes ``takes`` seconds of the test clock."""

    def __init__(self, tg: FakeTelegram, clock, takes: float) -> None:
        super().__init__(tg.token, api_base=tg.base_url)
        self.clock, self.takes = clock, takes

    async def send(self, message):
        self.clock.advance(timedelta(seconds=self.takes))
        return await super().send(message)


async def test_a_job_takes_no_follow_up_round_its_lease_cannot_cover(
    sessions, clock, redis_url, arq_redis, tg, smtp
):
    """The chat is blocked, so the job made an e-mail stand-in; its first round took 6 s of
    the 10 s it may start sends in (half a 20 s lease): it does not deliver the stand-in
    itself but queues its job at the next second."""
    tg.block(555)
    case = await reminder(sessions, clock, channels=("chat",), email="wang@example.gov.cn")
    channels = ChannelRegistry(
        [LogChannel(), SlowBlockedTelegram(tg, clock, takes=6)], substitute=LogChannel()
    )
    deps = deps_for(sessions, clock, redis_url, channels)
    deps.config = replace(deps.config, lease_seconds=20)
    ctx = {"deps": deps, "redis": arq_redis}
    await startup(ctx)
    [job] = jobs_now(case.ids, clock)
    try:
        assert await deliver_rows(ctx, job.first, job.last) == "failed=1"
    finally:
        await shutdown(ctx)
        await channels.close()
    assert await statuses(sessions) == ["failed", "pending"]
    async with sessions() as s:
        stand_in = await s.scalar(select(Notification.id).where(Notification.channel == "email"))
    [later] = delivery_jobs([(stand_in, clock.now() + timedelta(seconds=1))], per_job=PER_JOB)
    assert await queued_ids(arq_redis) == [later.job_id]


async def test_scan_and_sweep_have_their_own_timeout(sessions, clock, redis_url, tg):
    """A lease far shorter than a scan must not cut the scan off (it did: arq gave every job,
    the cron ones too, the lease as its timeout)."""

    async def scan(sessions_, *, clock, tz, batch=500, calendar=None):
        async with sessions_() as s:
            await s.execute(select(Notification.id))
        return "scanned"

    deps = deps_for(sessions, clock, redis_url, registry(telegram=tg), scan=scan)
    deps.config = replace(deps.config, lease_seconds=0.001)
    worker = await upkeep(deps, ("scan", "sweep"))
    # Both ran to the end, at start-up (a slow run may reach a cron second and run them again).
    assert worker.jobs_failed == 0 and worker.jobs_complete >= 2
    assert maintenance_settings(deps)["job_timeout"] == 600
    # Deliveries keep the lease, which is also how long arq holds a dead worker's job.
    assert Worker(**worker_settings(deps)).in_progress_timeout_s == 0.001 + 10


async def test_cron_scan_writes_and_queues_rows(sessions, clock, redis_url, tg):
    case = await reminder(sessions, clock, channels=())
    calls = []

    async def scan(sessions_, *, clock, tz, batch=500, calendar=None):
        calls.append(calendar)
        async with sessions_() as s, s.begin():
            await notify_person(
                s,
                person=case.owner,
                kind="urge",
                key=f"a{case.assignment.id}:urge:0",
                channels=["chat"],
                not_before=clock.now(),
                now=clock.now(),
                assignment_id=case.assignment.id,
                item_id=case.item.id,
            )
        return "scanned"

    channels = registry(telegram=tg)
    await drain(deps_for(sessions, clock, redis_url, channels, scan=scan), crons=("scan",))
    await channels.close()
    # Ran with the calendar, at start-up (a slow run may reach a cron second and run it
    # again: the outbox key keeps that to one row)
    assert calls and all(isinstance(c, WorkCalendar) for c in calls)
    assert await statuses(sessions) == ["sent"]
    assert "催办" in tg.sent[0].text


async def test_redis_limiter_is_shared_by_workers(redis_url, clock):
    redis = Redis.from_url(redis_url)
    a = RedisLimiter(redis, clock=clock, prefix="t:")
    b = RedisLimiter(redis, clock=clock, prefix="t:")
    bot, chat = Rate("tg:1", 30.0), Rate("tg:1:c5", 1.0)
    assert await a.try_acquire([bot, chat]) == 0
    wait = await b.try_acquire([bot, chat])  # same chat within the second: refused
    assert wait == pytest.approx(1.0, abs=1e-3)
    assert await b.try_acquire([bot, Rate("tg:1:c6", 1.0)]) == pytest.approx(1 / 30, abs=1e-3)
    clock.advance(timedelta(seconds=1))
    assert await b.try_acquire([bot, chat]) == 0
    # A 429 seen by one worker pauses the bot for every worker.
    await a.pause("tg:1", 5)
    assert await b.paused_for([bot]) == pytest.approx(5.0, abs=1e-3)
    assert await b.paused_for([Rate("tg:2", 30.0)]) == 0
    assert await b.try_acquire([bot, Rate("tg:1:c7", 1.0)]) == pytest.approx(5.0, abs=1e-3)
    clock.advance(timedelta(seconds=5))
    assert await b.try_acquire([bot, Rate("tg:1:c7", 1.0)]) == 0
    # 30 a second for the bot: the 31st send in the same instant must wait.
    clock.advance(timedelta(seconds=10))
    granted = 0
    for n in range(40):
        if await a.try_acquire([bot, Rate(f"tg:1:x{n}", 1.0)]) == 0:
            granted += 1
    assert granted == 1  # bursts of one: sends are spread evenly
    await redis.aclose()


# --- single-process runner and the command line ---------------------------------------------


async def test_runner_scans_delivers_and_stops_cleanly(sessions, clock, tg):
    from notifier.runner import Runner

    case = await reminder(sessions, clock, channels=())
    scans = []
    second_scan = asyncio.Event()

    async def scan(sessions_, *, clock, tz, batch=500, calendar=None):
        scans.append(clock.now())
        if len(scans) == 2:
            second_scan.set()
        async with sessions_() as s, s.begin():
            await notify_person(
                s,
                person=case.owner,
                kind="remind",
                key=f"a{case.assignment.id}:remind:r",
                channels=["chat"],
                not_before=clock.now(),
                now=clock.now(),
                assignment_id=case.assignment.id,
                item_id=case.item.id,
            )
        return "scanned"

    channels = registry(telegram=tg)
    stop = asyncio.Event()
    runner = Runner(
        NotifierConfig(scan_interval_seconds=3600),
        sessions,
        clock=clock,
        scan=scan,
        channels=channels,
        renderer=Renderer(pool=ROOMY_POOL),
        limiter=limiter_for(clock),
    )
    task = asyncio.create_task(runner.run(stop))
    await tg.wait_for_sent(1, timeout=30)
    runner.wake()  # a second round now, not in an hour: nothing new to send
    await asyncio.wait_for(second_scan.wait(), 30)
    stop.set()
    async with asyncio.timeout(30):
        await task  # ends on stop, well before the next scan interval
    await runner.close()
    await channels.close()
    assert len(scans) == 2 and len(tg.sent) == 1
    assert await statuses(sessions) == ["sent"]


@pytest.fixture
async def file_db(tmp_path):
    """A SQLite file with the schema, for subprocesses."""
    from models import Base
    from models.db import create_engine, create_sessionmaker

    url = f"sqlite+aiosqlite:///{tmp_path}/cli.db"
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield url, create_sessionmaker(engine)
    await engine.dispose()


def cli_env(db_url: str, tg: FakeTelegram, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env |= {
        "DUBAN_DATABASE_URL": db_url,
        "DUBAN_TELEGRAM_TOKEN": tg.token,
        "DUBAN_TELEGRAM_API_BASE": tg.base_url,
        "DUBAN_SECRET_KEY": "test-" + "k" * 40,
        # A child's first render starts its render worker: give it room on a loaded machine
        # (these tests check delivery, not the render limits).
        "DUBAN_RENDER_TIMEOUT_SECONDS": "30",
        **extra,
    }
    return env


async def test_deliver_pending_command(file_db, tg):
    from supervision.clock import SystemClock

    url, sessions = file_db
    now = SystemClock()
    await reminder(sessions, now, chat_id=321, channels=("chat",))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "duban.cli", "deliver", "--pending",
        env=cli_env(url, tg), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    assert "delivered 1 outbox rows: sent=1" in out.decode()
    assert [m.chat_id for m in tg.sent] == [321]
    assert tg.token not in err.decode()


async def test_deliver_pending_fails_when_nothing_can_be_recorded(file_db, tg):
    """An unwritable database: a non-zero exit, and the log says why (not only a class name)."""
    from supervision.clock import SystemClock

    url, sessions = file_db
    await reminder(sessions, SystemClock(), chat_id=322, channels=("chat",))
    path = url.split(":///", 1)[1]
    read_only = f"sqlite+aiosqlite:///file:{path}?mode=ro&uri=true"
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "duban.cli", "deliver", "--pending",
        env=cli_env(read_only, tg), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 1, (out.decode(), err.decode())
    assert "error=" in out.decode()
    assert "delivery batch failed: OperationalError: attempt to write a readonly database" in (
        err.decode()
    )
    assert "delivery batch(es) failed" in err.decode()
    assert tg.sent == [] and await statuses(sessions) == ["pending"]


@pytest.mark.slow
async def test_worker_runs_as_a_subprocess_and_stops_on_sigterm(file_db, tg, redis_url):
    from supervision.clock import SystemClock

    url, sessions = file_db
    now = SystemClock()
    for n in range(3):
        await reminder(sessions, now, chat_id=600 + n, channels=("chat",))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "duban.cli", "worker",
        env=cli_env(url, tg, DUBAN_REDIS_URL=redis_url),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        # the scan cron at startup queued the rows (a child starts slowly on a loaded machine)
        await tg.wait_for_sent(3, timeout=loaded_seconds(60))
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(proc.communicate(), loaded_seconds(60))
    assert proc.returncode == 0, err.decode()[-2000:]
    assert sorted(m.chat_id for m in tg.sent) == [600, 601, 602]
    assert await statuses(sessions) == ["sent"] * 3
    assert tg.token not in err.decode()


def idle_runner(sessions, clock):
    """A runner with an hour's scan interval and only the log channel."""
    from notifier.runner import Runner

    return Runner(
        NotifierConfig(scan_interval_seconds=3600),
        sessions,
        clock=clock,
        channels=registry(),
        renderer=Renderer(pool=ROOMY_POOL),
        limiter=limiter_for(clock),
    )


async def test_runner_wakes_for_the_next_retry(sessions, clock):
    case = await reminder(sessions, clock, channels=("chat",))
    runner = idle_runner(sessions, clock)
    async with sessions() as s, s.begin():  # tried already: the next retry is hours away
        (await s.get(Notification, case.ids[0])).next_attempt_at = clock.now() + timedelta(hours=2)
    assert await runner.next_round_in() == 3600
    async with sessions() as s, s.begin():
        (await s.get(Notification, case.ids[0])).next_attempt_at = clock.now() + timedelta(
            seconds=10
        )
    assert await runner.next_round_in() == 10
    await runner.close()


async def test_runner_starts_at_once_when_a_row_fell_due_during_the_round(sessions, clock):
    """A row whose lease ran out, or that fell due while a round ran, waits for no interval."""
    lapsed = await reminder(sessions, clock, chat_id=901, channels=("chat",))
    later = await reminder(sessions, clock, chat_id=902, channels=("chat",))
    runner = idle_runner(sessions, clock)
    async with sessions() as s, s.begin():
        row = await s.get(Notification, lapsed.ids[0])
        row.status, row.next_attempt_at = "sending", clock.now() + timedelta(seconds=30)
        (await s.get(Notification, later.ids[0])).not_before = clock.now() + timedelta(seconds=90)
    assert await runner.next_round_in() == 30  # the lease runs out in 30 s
    clock.advance(timedelta(seconds=31))
    assert await runner.next_round_in() == 0  # lapsed during the round: claim it again now
    async with sessions() as s, s.begin():
        (await s.get(Notification, lapsed.ids[0])).status = "sent"
    assert await runner.next_round_in() == 59  # the other row's not_before
    clock.advance(timedelta(seconds=60))
    assert await runner.next_round_in() == 0  # fell due: no hour's wait
    await runner.close()


def test_notifier_config_from_settings(monkeypatch):
    from duban.process import notifier_config
    from duban.settings import load_settings

    monkeypatch.setenv("DUBAN_SMTP_URL", "smtp://duban:pa55word@127.0.0.1:2525?starttls=true")
    monkeypatch.setenv("DUBAN_TELEGRAM_TOKEN", "123:ABC")
    monkeypatch.setenv("DUBAN_TELEGRAM_RATE", "12.5")
    monkeypatch.setenv("DUBAN_DELIVERY_LEASE_SECONDS", "20")
    monkeypatch.setenv("DUBAN_SWEEP_INTERVAL_SECONDS", "5")
    config = notifier_config(load_settings())
    assert config.mail is not None and config.mail.password == "pa55word"
    assert config.mail.starttls and config.mail.port == 2525
    assert (config.telegram_token, config.telegram_rate, config.lease_seconds) == (
        "123:ABC",
        12.5,
        20,
    )
    assert "pa55word" not in repr(config) and "123:ABC" not in repr(config)
    settings = maintenance_settings(NotifierDeps(config=config, sessions=None))  # type: ignore[arg-type]
    sweep = next(c for c in settings["cron_jobs"] if c.name == "sweep")
    assert sweep.second == {0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55}


async def test_runner_wakes_when_another_writer_commits_outbox_rows(sessions, clock, tg):
    """A message queued by the web admin or the bot goes out now, not at the next scan."""
    from notifier.runner import Runner

    case = await reminder(sessions, clock, channels=())
    channels = registry(telegram=tg)
    stop = asyncio.Event()
    waiting = asyncio.Event()

    class Probe(Runner):
        async def next_round_in(self) -> float:
            pause = await super().next_round_in()
            waiting.set()  # the first round found nothing; the runner now waits an hour
            return pause

    runner = Probe(
        NotifierConfig(scan_interval_seconds=3600),
        sessions,
        clock=clock,
        channels=channels,
        renderer=Renderer(pool=ROOMY_POOL),
        limiter=limiter_for(clock),
    )
    with runner.waking_on_outbox_commits():
        task = asyncio.create_task(runner.run(stop))
        await asyncio.wait_for(waiting.wait(), 30)
        async with sessions() as s, s.begin():
            await notify_person(
                s,
                person=case.owner,
                kind="remind",
                key=f"a{case.assignment.id}:remind:w",
                channels=["chat"],
                not_before=clock.now(),
                now=clock.now(),
                assignment_id=case.assignment.id,
                item_id=case.item.id,
            )
        await tg.wait_for_sent(1, timeout=30)
        stop.set()
        async with asyncio.timeout(30):
            await task
    await runner.close()
    await channels.close()
    assert await statuses(sessions) == ["sent"]
