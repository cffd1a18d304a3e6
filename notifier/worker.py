"""The arq workers (``duban worker``): delivery jobs of a batch of outbox rows; scan, sweeper.

A delivery job names a block of row ids and the second its rows fall due; it claims those of
the block that are due when it runs and delivers them together (``Deliverer.deliver_rows``,
the claim, send and record of ``duban run``'s runner), so arq's own round trips are paid once
per batch, not once per row. Its job id ``deliver:<second>:<first>-<last>`` is deterministic,
so queueing the same rows twice is harmless. Redis holds nothing that cannot be rebuilt: the
sweeper re-queues every row the database says is due (after a Redis flush, a lost job or a
crashed worker).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from arq import cron
from arq.connections import ArqRedis, RedisSettings
from arq.constants import default_queue_name, job_key_prefix, result_key_prefix
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from arq.worker import Worker, func
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Notification
from notifier.channels import ChannelRegistry, build_channels
from notifier.config import NotifierConfig
from notifier.delivery import LANES, Deliverer, DeliveryOptions, Outcome
from notifier.ratelimit import Limiter, RedisLimiter
from notifier.template_store import DbTemplateStore
from notifier.templating import Renderer, RenderPool
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock, SystemClock
from supervision.outbox import due_at, due_clause

log = logging.getLogger("duban.worker")

DELIVER_JOB: Final = "deliver_rows"
#: the deliveries' queue (arq's default) and the scan's and sweep's own
DELIVERY_QUEUE: Final = default_queue_name
MAINTENANCE_QUEUE: Final = "duban:maintenance"
#: a delivery job cut off (its worker stopped or died) is run again by arq, a few times; the
#: rows a job could not deliver are due again in the database, and queued again by the job
#: itself (its retries), the scan or the sweeper
MAX_JOB_TRIES: Final = 3
STATE: Final = "duban"
#: seconds between reads of the queue once a read's jobs are started (arq's default: 0.5); a
#: delivery worker also reads it as soon as a job ends (:class:`DeliveryWorker`)
POLL_DELAY: Final = 0.05
#: rounds a delivery job gives the stand-ins (next channel) and rows due again that it made
FOLLOW_UPS: Final = 3


class ScanFn(Protocol):
    """``notifier.scan.scan_once``'s signature."""

    def __call__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        tz: ZoneInfo,
        batch: int = ...,
        calendar: WorkCalendar | None = ...,
    ) -> Awaitable[object]: ...


@dataclass(frozen=True)
class DeliveryJob:
    """One delivery job: the rows of ids ``first``..``last`` that fall due by ``second``."""

    #: the Unix second its rows fall due by (their moment rounded up)
    second: int
    first: int
    last: int

    @property
    def job_id(self) -> str:
        """The arq job id: the same block due at the same second is one job."""
        return f"deliver:{self.second}:{self.first}-{self.last}"


def rows_per_job(concurrency: int) -> int:
    """The rows of one delivery job for a worker of ``concurrency`` sends in flight: the
    runner's batch. The :data:`~notifier.delivery.LANES` jobs a worker runs at once may hold
    more rows than it sends at once; the lease rule (:func:`deliver_rows`,
    ``Deliverer._deliver_batch``) gives back a row whose send cannot start in time."""
    return max(1, concurrency)


def delivery_jobs(due: Iterable[tuple[int, datetime]], *, per_job: int) -> list[DeliveryJob]:
    """The jobs that deliver rows ``(id, due at)``: one per block of ``per_job`` ids (fixed
    blocks: ``id // per_job``) and second the rows fall due, ordered by that second."""
    size = max(1, per_job)
    keys = {(math.ceil(at.timestamp()), nid // size) for nid, at in due}
    return [
        DeliveryJob(second, block * size, block * size + size - 1) for second, block in sorted(keys)
    ]


#: due rows read and queued per statement and per Redis script
ENQUEUE_BATCH: Final = 500
# Queue many jobs in one round trip, each only if its job (or its result) is not there
# already: arq's enqueue_job does the same check per job, with a WATCH and four round trips.
# A job held "in progress" keeps its key, so it is not queued twice either: a job a dead
# worker holds is run again by arq after the lease and 10 s more, and once a row's lease
# ran out the row is due at another second, in a job of another id.
_ENQUEUE_MANY: Final = """
local queue, job_prefix, result_prefix = KEYS[1], ARGV[1], ARGV[2]
local added = 0
for i = 3, #ARGV, 4 do
  local id = ARGV[i]
  if redis.call('exists', job_prefix .. id, result_prefix .. id) == 0 then
    redis.call('psetex', job_prefix .. id, ARGV[i + 2], ARGV[i + 3])
    redis.call('zadd', queue, ARGV[i + 1], id)
    added = added + 1
  end
end
return added
"""


async def enqueue_jobs(redis: ArqRedis, jobs: Sequence[DeliveryJob], *, now: datetime) -> int:
    """Queue delivery jobs in one round trip, each to start at its second (``now`` being the
    clock's present), unless it is queued or running already; returns how many were added."""
    if not jobs:
        return 0
    now_ms = timestamp_ms()
    args: list[str | int | bytes] = [job_key_prefix, result_key_prefix]
    for job in jobs:
        defer_ms = max(0, math.ceil((job.second - now.timestamp()) * 1000))
        body = serialize_job(
            DELIVER_JOB, (job.first, job.last), {}, None, now_ms, serializer=redis.job_serializer
        )
        args += [job.job_id, now_ms + defer_ms, defer_ms + redis.expires_extra_ms, body]
    script = redis.register_script(_ENQUEUE_MANY)
    return int(await script(keys=[DELIVERY_QUEUE], args=args))


@dataclass(frozen=True)
class Enqueued:
    """What one :func:`enqueue_due` call did."""

    #: due rows read from the outbox
    read: int = 0
    #: delivery jobs queued (those of the rows' jobs that were not in Redis)
    queued: int = 0
    #: where the next call continues (``not_before``, id), or None once it reached the end
    cursor: tuple[datetime, int] | None = None


async def enqueue_due(
    redis: ArqRedis,
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    per_job: int,
    horizon: float = 0.0,
    stale_for: float = 0.0,
    limit: int = 10_000,
    after: tuple[datetime, int] | None = None,
    batch: int = ENQUEUE_BATCH,
) -> Enqueued:
    """Queue the jobs (:func:`delivery_jobs`, ``per_job`` ids a block) of every row due by
    ``now + horizon`` (pending) or with a lapsed lease (sending) whose job is not in Redis:
    at most ``limit`` rows from ``after`` on, ``batch`` at a time (one query and one Redis
    round trip each). A lapsed lease is due at its end: whoever held the row is taken to be
    dead, and the job of that second takes it over.

    ``stale_for`` > 0 makes this the sweeper: only pending rows due for that long, i.e.
    rows whose job should have run already; of those only the ones whose job was lost
    (Redis flushed, worker killed) are queued.
    """
    # The sweeper looks only at pending rows due for ``stale_for`` already; a lapsed lease is
    # due now either way.
    due_by = now - timedelta(seconds=stale_for) if stale_for else now + timedelta(seconds=horizon)
    order = (Notification.not_before, Notification.id)
    read = queued = 0
    cursor = after
    while read < limit:
        query = select(*order, Notification.next_attempt_at, Notification.status).where(
            due_clause(now, pending_by=due_by)
        )
        if cursor is not None:
            query = query.where(tuple_(*order) > tuple_(*cursor))
        take = min(batch, limit - read)
        async with sessions() as session:
            rows = (await session.execute(query.order_by(*order).limit(take))).all()
        due = [
            (nid, due_at(status, not_before, next_at) or now)
            for not_before, nid, next_at, status in rows
        ]
        queued += await enqueue_jobs(redis, delivery_jobs(due, per_job=per_job), now=now)
        read += len(rows)
        if len(rows) < take:
            return Enqueued(read=read, queued=queued, cursor=None)
        cursor = (rows[-1][0], rows[-1][1])
    return Enqueued(read=read, queued=queued, cursor=cursor)


@dataclass
class NotifierDeps:
    """What the worker needs; built by the composition root (tests inject channels)."""

    config: NotifierConfig
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)
    scan: ScanFn | None = None
    channels: ChannelRegistry | None = None
    renderer: Renderer | None = None
    limiter_factory: Callable[[ArqRedis], Limiter] | None = None


@dataclass
class WorkerState:
    """Clients shared by every job of one worker (``ctx["duban"]``)."""

    deps: NotifierDeps
    deliverer: Deliverer
    own_channels: bool
    #: where the next sweep continues (None: from the oldest due row)
    sweep_cursor: tuple[datetime, int] | None = None
    sweeping: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: the render workers this worker started (None when the renderer was given)
    own_pool: RenderPool | None = None

    def use_calendar(self, calendar: WorkCalendar) -> None:
        """Deliver with ``calendar`` (loaded at start-up and again at each scan)."""
        self.deliverer.options = DeliveryOptions.from_config(self.deps.config, calendar)


def _state(ctx: dict[str, Any]) -> WorkerState:
    state: WorkerState = ctx[STATE]
    return state


async def startup(ctx: dict[str, Any]) -> None:
    """Open channels, the renderer (with its render workers) and the shared rate limiter."""
    deps: NotifierDeps = ctx["deps"]
    redis: ArqRedis = ctx["redis"]
    channels = deps.channels or build_channels(deps.config, clock=deps.clock)
    pool = None if deps.renderer else RenderPool(deps.config.render)
    renderer = deps.renderer or Renderer(DbTemplateStore(deps.sessions), pool=pool)
    limiter = (
        deps.limiter_factory(redis)
        if deps.limiter_factory
        else RedisLimiter(redis, clock=deps.clock)
    )
    async with deps.sessions() as session:
        calendar = await load_calendar(session)
    deliverer = Deliverer(
        deps.sessions,
        channels=channels,
        renderer=renderer,
        clock=deps.clock,
        limiter=limiter,
        options=DeliveryOptions.from_config(deps.config, calendar),
        concurrency=deps.config.concurrency,
    )
    ctx[STATE] = WorkerState(
        deps=deps, deliverer=deliverer, own_channels=deps.channels is None, own_pool=pool
    )
    log.info("notifier worker ready; channels: %s", ", ".join(channels.kinds))


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the channels and render workers this worker opened (arq let the jobs in
    progress finish first: ``job_completion_wait``)."""
    state: WorkerState | None = ctx.get(STATE)
    if state is not None and state.own_channels:
        await state.deliverer.channels.close()
    if state is not None and state.own_pool is not None:
        await state.own_pool.aclose()


def job_send_by(started: datetime, lease_seconds: float) -> datetime:
    """When a delivery job that started at ``started`` stops claiming and starting sends:
    half its timeout (the lease), so that what it started is sent and recorded in the other
    half, before arq cuts it off."""
    return started + timedelta(seconds=lease_seconds / 2)


async def deliver_rows(ctx: dict[str, Any], first: int, last: int) -> str:
    """Deliver the due rows of ids ``first``..``last``; then, in the same job, the stand-ins
    this made and the rows due again at once, and queue the jobs of the later retries (each
    at its own second).

    A job never outlives the leases it took: it claims and starts sends only until
    :func:`job_send_by`, and takes a follow-up round only when the time left before then
    covers its longest round so far; what it does not take is queued for the next second."""
    state = _state(ctx)
    deps = state.deps
    counts: Counter[str] = Counter()
    rows: Sequence[int] = range(first, last + 1)
    send_by = job_send_by(deps.clock.now(), deps.config.lease_seconds)
    longest = timedelta(0)
    for round_ in range(FOLLOW_UPS + 1):
        began = deps.clock.now()
        results = await state.deliverer.deliver_rows(rows, send_by=send_by)
        counts.update(r.outcome.value for r in results)
        now = deps.clock.now()
        longest = max(longest, now - began)
        again: list[int] = []
        later: list[tuple[int, datetime]] = []
        for r in results:
            if r.fallback_id is not None:
                again.append(r.fallback_id)
            if r.outcome in (Outcome.RETRY, Outcome.DEFERRED):
                at = r.retry_at or now
                if at > now:
                    later.append((r.notification_id, at))
                else:
                    again.append(r.notification_id)
        if round_ == FOLLOW_UPS or now + longest >= send_by:
            # Due now still: a job of the next second (this one's id is taken while it runs).
            later += [(nid, now + timedelta(seconds=1)) for nid in again]
            again = []
        jobs = delivery_jobs(later, per_job=rows_per_job(deps.config.concurrency))
        await enqueue_jobs(ctx["redis"], jobs, now=now)
        if not again:
            break
        rows = again
    return " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing due"


async def scan(ctx: dict[str, Any]) -> str:
    """Cron: write due ladder steps to the outbox, then queue what is due before the next scan
    and not queued yet."""
    state = _state(ctx)
    deps = state.deps
    async with deps.sessions() as session:
        calendar = await load_calendar(session)
    state.use_calendar(calendar)
    summary = "no scan configured"
    if deps.scan is not None:
        summary = str(
            await deps.scan(deps.sessions, clock=deps.clock, tz=deps.config.tz, calendar=calendar)
        )
    done = await enqueue_due(
        ctx["redis"],
        deps.sessions,
        now=deps.clock.now(),
        per_job=rows_per_job(deps.config.concurrency),
        horizon=deps.config.scan_interval_seconds,
    )
    return f"{summary}; queued {done.queued} jobs for {done.read} due rows"


async def sweep(ctx: dict[str, Any]) -> str:
    """Cron: re-queue rows whose job was lost (Redis flushed, worker killed mid-send).

    Looks at up to ``sweep_limit`` due rows per run, from where the last run stopped, and
    queues only the jobs not in Redis.
    """
    state = _state(ctx)
    deps = state.deps
    if state.sweeping.locked():
        return "the previous sweep is still running"
    async with state.sweeping:
        done = await enqueue_due(
            ctx["redis"],
            deps.sessions,
            now=deps.clock.now(),
            per_job=rows_per_job(deps.config.concurrency),
            stale_for=deps.config.sweep_after_seconds,
            limit=deps.config.sweep_limit,
            after=state.sweep_cursor,
        )
        state.sweep_cursor = done.cursor
    if done.queued:
        log.warning("sweeper re-queued %d delivery jobs (for %d due rows)", done.queued, done.read)
    return f"re-queued {done.queued} jobs for {done.read} due rows"


class DeliveryWorker(Worker):
    """arq's ``Worker`` for the deliveries: it reads the queue again as soon as a job ends.

    arq reads its queue on a timer (``poll_delay``) and starts no job in between, so a slot a
    job freed stayed idle until the next read (25 ms on average at 50 ms, while the other lane
    sent alone: a job of a batch lasts a few hundred ms). Reading at once keeps both lanes busy
    through a backlog; an idle worker still reads every ``poll_delay`` only. The reads are
    arq's own (``_poll_iteration``: the claim of a job through its in-progress key), one at a
    time.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._reading = asyncio.Lock()
        #: a read is asked for and has not begun (one is enough for any number of ended jobs)
        self._read_asked = False
        self._reads: set[asyncio.Task[None]] = set()

    async def _poll_iteration(self) -> None:
        async with self._reading:
            await super()._poll_iteration()

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        if self._read_asked or not self.allow_pick_jobs:
            return
        self._read_asked = True
        read = asyncio.ensure_future(self._read_now())
        self._reads.add(read)
        read.add_done_callback(self._reads.discard)

    async def _read_now(self) -> None:
        """Read the queue now, between two of arq's timed reads."""
        async with self._reading:
            self._read_asked = False
            try:
                await super()._poll_iteration()
            except Exception as exc:  # the timed reads meet (and report) the same fault
                log.warning("reading the delivery queue failed: %s", type(exc).__name__)

    async def close(self) -> None:
        """Close arq's worker once the reads under way have ended."""
        await asyncio.gather(*self._reads, return_exceptions=True)
        await super().close()


def _every(seconds: float) -> dict[str, Any]:
    """arq cron fields for "every ``seconds``" (rounded to whole seconds or minutes)."""
    s = max(1, round(seconds))
    if s < 60:
        return {"second": set(range(0, 60, s))}
    minutes = max(1, s // 60)
    return {"minute": set(range(0, 60, minutes)), "second": 0}


def _common(deps: NotifierDeps) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"deps": deps},
        "keep_result": 0,
    }
    if deps.config.redis_url:
        settings["redis_settings"] = RedisSettings.from_dsn(deps.config.redis_url)
    return settings


def worker_settings(deps: NotifierDeps, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of the delivery worker: jobs of a batch of outbox rows on
    :data:`DELIVERY_QUEUE`, each under the lease (``DeliveryWorker(**worker_settings(deps))``).

    Two jobs at once (``delivery.LANES``) of :func:`rows_per_job` rows each (the runner's
    batch): one claims or records while the other sends, both under one bound of
    ``concurrency`` (DUBAN_DELIVERY_CONCURRENCY) sends in flight. The job timeout is the
    lease; a job stops claiming and starting sends at half of it (:func:`deliver_rows`)."""
    config = deps.config
    settings = _common(deps) | {
        "functions": [func(deliver_rows, name=DELIVER_JOB, max_tries=MAX_JOB_TRIES, keep_result=0)],
        "queue_name": DELIVERY_QUEUE,
        "max_jobs": min(LANES, max(1, config.concurrency)),
        "poll_delay": POLL_DELAY,
        "max_tries": MAX_JOB_TRIES,
        # Also how long arq holds the job of a worker that died "in progress" (+10 s).
        "job_timeout": config.lease_seconds,
        # SIGTERM/SIGINT: stop taking jobs and let deliveries in flight record their result.
        "job_completion_wait": max(1, round(config.send_timeout_seconds)),
    }
    settings.update(overrides)
    return settings


def maintenance_settings(deps: NotifierDeps, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments of the maintenance ``arq.worker.Worker``: the scan and the sweep
    crons, on a queue of their own under ``scan_timeout_seconds``.

    Apart from the deliveries because arq serves a queue oldest job first (a backlog of
    deliveries would hold the sweep back for minutes) and holds a dead worker's job "in
    progress" for its longest function timeout (the scan's would keep deliveries waiting).
    Both run at start-up; they queue only what is due and not queued already.
    """
    config = deps.config
    settings = _common(deps) | {
        "functions": [],
        "cron_jobs": [
            cron(scan, name="scan", run_at_startup=True, **_every(config.scan_interval_seconds)),
            cron(sweep, name="sweep", run_at_startup=True, **_every(config.sweep_interval_seconds)),
        ],
        "queue_name": MAINTENANCE_QUEUE,
        "max_jobs": 2,
        "max_tries": 1,
        "job_timeout": config.scan_timeout_seconds,
    }
    settings.update(overrides)
    return settings
