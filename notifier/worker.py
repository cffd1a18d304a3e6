"""The arq worker (``duban worker``): a cron scan, one job per outbox row, and a sweeper.

Jobs carry only the row id, under the deterministic job id ``notification:{id}``, so enqueueing
a row twice is harmless. Redis holds nothing that cannot be rebuilt: the sweeper re-enqueues
every row the database says is due (after a Redis flush, a lost job or a crashed worker).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from arq import cron
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Retry, func
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Notification, NotificationStatus
from notifier.channels import ChannelRegistry, build_channels
from notifier.config import NotifierConfig
from notifier.delivery import DeliveryOptions, Outcome, deliver
from notifier.ratelimit import Limiter, RedisLimiter
from notifier.template_store import DbTemplateStore
from notifier.templating import Renderer, RenderPool
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock, SystemClock

log = logging.getLogger("duban.worker")

DELIVER_JOB: Final = "deliver_notification"
#: the database decides when to give up (the retry schedule); arq only carries the waits
MAX_JOB_TRIES: Final = 10_000
STATE: Final = "duban"


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
        _defer_by=defer_by if defer_by and defer_by > 0 else None,
    )
    return job is not None


async def enqueue_due(
    redis: ArqRedis,
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    horizon: float = 0.0,
    stale_for: float = 0.0,
    limit: int = 10_000,
) -> int:
    """Enqueue rows due by ``now + horizon`` (pending) or with a lapsed lease (sending).

    ``stale_for`` > 0 makes this the sweeper: only pending rows due for that long, i.e.
    rows whose job should have run already and was lost.
    """
    until = now + timedelta(seconds=horizon)
    stale_before = now - timedelta(seconds=stale_for)
    due_at = Notification.not_before
    pending = and_(
        Notification.status == NotificationStatus.PENDING.value,
        Notification.not_before <= (stale_before if stale_for else until),
        or_(
            Notification.next_attempt_at.is_(None),
            Notification.next_attempt_at <= (stale_before if stale_for else until),
        ),
    )
    lapsed = and_(
        Notification.status == NotificationStatus.SENDING.value,
        Notification.next_attempt_at <= now,
    )
    async with sessions() as session:
        rows = (
            await session.execute(
                select(Notification.id, due_at, Notification.next_attempt_at, Notification.status)
                .where(or_(pending, lapsed))
                .order_by(Notification.not_before, Notification.id)
                .limit(limit)
            )
        ).all()
    queued = 0
    for nid, not_before, next_at, status in rows:
        when = not_before if status == NotificationStatus.PENDING.value else now
        if status == NotificationStatus.PENDING.value and next_at is not None:
            when = max(when, next_at)
        if await enqueue(redis, nid, defer_by=(when - now).total_seconds()):
            queued += 1
    return queued


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
    channels: ChannelRegistry
    renderer: Renderer
    limiter: Limiter
    calendar: WorkCalendar
    own_channels: bool
    #: the render workers this worker started (None when the renderer was given)
    own_pool: RenderPool | None = None

    def options(self) -> DeliveryOptions:
        """Delivery options with the calendar loaded at the last scan."""
        return DeliveryOptions.from_config(self.deps.config, self.calendar)


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
    ctx[STATE] = WorkerState(
        deps=deps,
        channels=channels,
        renderer=renderer,
        limiter=limiter,
        calendar=calendar,
        own_channels=deps.channels is None,
        own_pool=pool,
    )
    log.info("notifier worker ready; channels: %s", ", ".join(channels.kinds))


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the channels and render workers this worker opened."""
    state: WorkerState | None = ctx.get(STATE)
    if state is not None and state.own_channels:
        await state.channels.close()
    if state is not None and state.own_pool is not None:
        await state.own_pool.aclose()


async def deliver_notification(ctx: dict[str, Any], notification_id: int) -> str:
    """Deliver one row; a retry or rate-limit wait re-queues the same job for later."""
    state = _state(ctx)
    deps = state.deps
    result = await deliver(
        deps.sessions,
        notification_id,
        channels=state.channels,
        renderer=state.renderer,
        clock=deps.clock,
        limiter=state.limiter,
        options=state.options(),
    )
    if result.fallback_id is not None:
        await enqueue(ctx["redis"], result.fallback_id)
    if result.outcome in (Outcome.RETRY, Outcome.DEFERRED, Outcome.NOT_DUE, Outcome.BUSY):
        wait = 1.0
        if result.retry_at is not None:
            wait = max(0.0, (result.retry_at - deps.clock.now()).total_seconds())
        raise Retry(defer=timedelta(seconds=wait))
    return result.outcome.value


async def scan(ctx: dict[str, Any]) -> str:
    """Cron: write due ladder steps to the outbox, then queue what is due before the next scan."""
    state = _state(ctx)
    deps = state.deps
    async with deps.sessions() as session:
        state.calendar = await load_calendar(session)
    summary = "no scan configured"
    if deps.scan is not None:
        summary = str(
            await deps.scan(
                deps.sessions, clock=deps.clock, tz=deps.config.tz, calendar=state.calendar
            )
        )
    queued = await enqueue_due(
        ctx["redis"],
        deps.sessions,
        now=deps.clock.now(),
        horizon=deps.config.scan_interval_seconds,
    )
    return f"{summary}; queued {queued}"


async def sweep(ctx: dict[str, Any]) -> str:
    """Cron: re-queue rows whose job was lost (Redis flushed, worker killed mid-send)."""
    state = _state(ctx)
    deps = state.deps
    queued = await enqueue_due(
        ctx["redis"],
        deps.sessions,
        now=deps.clock.now(),
        stale_for=deps.config.sweep_after_seconds,
    )
    if queued:
        log.warning("sweeper re-queued %d outbox rows", queued)
    return f"re-queued {queued}"


def _every(seconds: float) -> dict[str, Any]:
    """arq cron fields for "every ``seconds``" (rounded to whole seconds or minutes)."""
    s = max(1, round(seconds))
    if s < 60:
        return {"second": set(range(0, 60, s))}
    minutes = max(1, s // 60)
    return {"minute": set(range(0, 60, minutes)), "second": 0}


def worker_settings(deps: NotifierDeps, **overrides: Any) -> dict[str, Any]:
    """Keyword arguments for ``arq.worker.Worker`` (``Worker(**worker_settings(deps))``)."""
    config = deps.config
    settings: dict[str, Any] = {
        "functions": [
            func(deliver_notification, name=DELIVER_JOB, max_tries=MAX_JOB_TRIES, keep_result=0)
        ],
        "cron_jobs": [
            cron(scan, name="scan", run_at_startup=True, **_every(config.scan_interval_seconds)),
            cron(sweep, name="sweep", run_at_startup=True, **_every(config.sweep_interval_seconds)),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"deps": deps},
        "max_jobs": config.concurrency,
        "keep_result": 0,
        "max_tries": MAX_JOB_TRIES,
        "job_timeout": config.lease_seconds,
        # SIGTERM/SIGINT: stop taking jobs and let deliveries in flight record their result.
        "job_completion_wait": max(1, round(config.send_timeout_seconds)),
    }
    if config.redis_url:
        settings["redis_settings"] = RedisSettings.from_dsn(config.redis_url)
    settings.update(overrides)
    return settings
