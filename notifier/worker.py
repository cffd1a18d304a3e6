"""The arq workers (``duban worker``): one job per outbox row; the scan and the sweeper.

Jobs carry only the row id, under the deterministic job id ``notification:{id}``, so enqueueing
a row twice is harmless. Redis holds nothing that cannot be rebuilt: the sweeper re-enqueues
every row the database says is due (after a Redis flush, a lost job or a crashed worker).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from arq import cron
from arq.connections import ArqRedis, RedisSettings
from arq.constants import (
    default_queue_name,
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
)
from arq.jobs import serialize_job
from arq.utils import timestamp_ms
from arq.worker import Retry, func
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Notification
from notifier.channels import ChannelRegistry, build_channels
from notifier.config import NotifierConfig
from notifier.delivery import Deliverer, DeliveryOptions, Outcome
from notifier.ratelimit import Limiter, RedisLimiter
from notifier.template_store import DbTemplateStore
from notifier.templating import Renderer, RenderPool
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock, SystemClock
from supervision.outbox import PENDING, due_at, due_clause

log = logging.getLogger("duban.worker")

DELIVER_JOB: Final = "deliver_notification"
#: the deliveries' queue (arq's default) and the scan's and sweep's own
DELIVERY_QUEUE: Final = default_queue_name
MAINTENANCE_QUEUE: Final = "duban:maintenance"
#: the database decides when to give up (the retry schedule); arq only carries the waits
MAX_JOB_TRIES: Final = 10_000
STATE: Final = "duban"
#: seconds between reads of the queue once a read's jobs are started (arq's default: 0.5)
POLL_DELAY: Final = 0.05


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


def job_id(notification_id: int) -> str:
    """The arq job id of one outbox row."""
    return f"notification:{notification_id}"


async def enqueue(redis: ArqRedis, notification_id: int, *, defer_by: float | None = None) -> bool:
    """Queue delivery of one row; False when its job is already queued or running."""
    job = await redis.enqueue_job(
        DELIVER_JOB,
        notification_id,
        _job_id=job_id(notification_id),
        _queue_name=DELIVERY_QUEUE,
        _defer_by=defer_by if defer_by and defer_by > 0 else None,
    )
    return job is not None


#: due rows read and queued per statement and per Redis script
ENQUEUE_BATCH: Final = 500
# Queue many jobs in one round trip, each only if its job (or its result) is not there
# already: arq's enqueue_job does the same check per job, with a WATCH and four round trips.
# A row whose lease ran out while its job is held "in progress" gets a takeover job instead
# (once per lease): arq holds the job of a worker that died with it for the lease and 10 s
# more. A second job is harmless: the claim in the database lets one of them have the row.
# (A pending row's job held in progress is left to arq: a live job holds it that way, too,
# for the moment between its start and its claim.)
_ENQUEUE_MANY: Final = """
local queue, job_prefix, result_prefix, busy_prefix = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local added = 0
for i = 4, #ARGV, 5 do
  local id, takeover = ARGV[i], ARGV[i + 1]
  local pick = nil
  if redis.call('exists', job_prefix .. id, result_prefix .. id) == 0 then
    pick = id
  elseif takeover ~= '' and redis.call('exists', busy_prefix .. id) == 1
      and redis.call('exists', job_prefix .. takeover, result_prefix .. takeover) == 0 then
    pick = takeover
  end
  if pick then
    redis.call('psetex', job_prefix .. pick, ARGV[i + 3], ARGV[i + 4])
    redis.call('zadd', queue, ARGV[i + 2], pick)
    added = added + 1
  end
end
return added
"""


def takeover_job_id(notification_id: int, lease_end: datetime) -> str:
    """The job that takes over a row whose lease ended at ``lease_end`` while its own job is
    held in progress: one per row and lease."""
    return f"{job_id(notification_id)}:lease:{round(lease_end.timestamp() * 1000)}"


async def enqueue_many(redis: ArqRedis, jobs: Sequence[tuple[int, float, str]]) -> int:
    """Queue delivery jobs ``(row id, seconds from now, takeover job id or "")`` in one round
    trip, as :func:`enqueue` would one by one; returns how many jobs were added."""
    if not jobs:
        return 0
    now_ms = timestamp_ms()
    args: list[str | int | bytes] = [job_key_prefix, result_key_prefix, in_progress_key_prefix]
    for nid, defer_by, takeover in jobs:
        defer_ms = max(0, round(defer_by * 1000))
        job = serialize_job(DELIVER_JOB, (nid,), {}, None, now_ms, serializer=redis.job_serializer)
        args += [job_id(nid), takeover, now_ms + defer_ms, defer_ms + redis.expires_extra_ms, job]
    script = redis.register_script(_ENQUEUE_MANY)
    return int(await script(keys=[DELIVERY_QUEUE], args=args))


@dataclass(frozen=True)
class Enqueued:
    """What one :func:`enqueue_due` call did."""

    #: due rows read from the outbox
    read: int = 0
    #: jobs queued (rows whose job was not in Redis)
    queued: int = 0
    #: where the next call continues (``not_before``, id), or None once it reached the end
    cursor: tuple[datetime, int] | None = None


async def enqueue_due(
    redis: ArqRedis,
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    horizon: float = 0.0,
    stale_for: float = 0.0,
    limit: int = 10_000,
    after: tuple[datetime, int] | None = None,
    batch: int = ENQUEUE_BATCH,
) -> Enqueued:
    """Queue every row due by ``now + horizon`` (pending) or with a lapsed lease (sending)
    whose job is not in Redis: at most ``limit`` rows from ``after`` on, ``batch`` at a time
    (one query and one Redis round trip each).

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
        due: list[tuple[int, float, str]] = []
        for not_before, nid, next_at, status in rows:
            if status == PENDING:
                when = due_at(status, not_before, next_at) or now
                due.append((nid, max(0.0, (when - now).total_seconds()), ""))
            else:  # its lease ran out: whoever holds its job is taken to be dead
                due.append((nid, 0.0, takeover_job_id(nid, next_at or now)))
        queued += await enqueue_many(redis, due)
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
    )
    ctx[STATE] = WorkerState(
        deps=deps, deliverer=deliverer, own_channels=deps.channels is None, own_pool=pool
    )
    log.info("notifier worker ready; channels: %s", ", ".join(channels.kinds))


async def shutdown(ctx: dict[str, Any]) -> None:
    """Let the claims and recordings in progress finish, then close the channels and render
    workers this worker opened."""
    state: WorkerState | None = ctx.get(STATE)
    if state is not None:
        await state.deliverer.close()
    if state is not None and state.own_channels:
        await state.deliverer.channels.close()
    if state is not None and state.own_pool is not None:
        await state.own_pool.aclose()


async def deliver_notification(ctx: dict[str, Any], notification_id: int) -> str:
    """Deliver one row; a retry or rate-limit wait re-queues the same job for later."""
    state = _state(ctx)
    deps = state.deps
    result = await state.deliverer.deliver(notification_id)
    if result.fallback_id is not None:
        await enqueue(ctx["redis"], result.fallback_id)
    if result.outcome in (Outcome.RETRY, Outcome.DEFERRED, Outcome.NOT_DUE, Outcome.BUSY):
        wait = 1.0
        if result.retry_at is not None:
            wait = max(0.0, (result.retry_at - deps.clock.now()).total_seconds())
        raise Retry(defer=timedelta(seconds=wait))
    return result.outcome.value


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
        horizon=deps.config.scan_interval_seconds,
    )
    return f"{summary}; queued {done.queued} of {done.read} due"


async def sweep(ctx: dict[str, Any]) -> str:
    """Cron: re-queue rows whose job was lost (Redis flushed, worker killed mid-send).

    Looks at up to ``sweep_limit`` due rows per run, from where the last run stopped, and
    queues only those whose job is not in Redis.
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
            stale_for=deps.config.sweep_after_seconds,
            limit=deps.config.sweep_limit,
            after=state.sweep_cursor,
        )
        state.sweep_cursor = done.cursor
    if done.queued:
        log.warning("sweeper re-queued %d outbox rows (of %d due)", done.queued, done.read)
    return f"re-queued {done.queued} of {done.read} due"


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
    """Keyword arguments of the delivery ``arq.worker.Worker``: one job per outbox row, on
    :data:`DELIVERY_QUEUE`, each under the lease (``Worker(**worker_settings(deps))``)."""
    config = deps.config
    settings = _common(deps) | {
        "functions": [
            func(deliver_notification, name=DELIVER_JOB, max_tries=MAX_JOB_TRIES, keep_result=0)
        ],
        "queue_name": DELIVERY_QUEUE,
        "max_jobs": config.concurrency,
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
