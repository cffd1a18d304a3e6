"""``duban deliver --pending`` (deliver every due outbox row now) and ``duban worker`` (arq)."""

from __future__ import annotations

import argparse
import asyncio
import logging

from duban.commands import CliError
from duban.runtime import Runtime
from supervision.calendar_store import load_calendar

# The notifier (and aiogram under it) is imported inside the handlers: it takes seconds to
# import, and `duban --help` and every other command should not pay for it.

log = logging.getLogger("duban")


async def deliver_pending(args: argparse.Namespace, rt: Runtime) -> int:
    """Deliver every due pending row now and print the counts by outcome."""
    from redis.asyncio import Redis

    from duban.process import notifier_config
    from notifier.channels import build_channels
    from notifier.delivery import DeliveryOptions, deliver_due
    from notifier.ratelimit import Limiter, MemoryLimiter, RedisLimiter
    from notifier.template_store import DbTemplateStore
    from notifier.templating import Renderer, RenderPool

    if not args.pending:
        raise CliError("pass --pending: deliver every outbox row that is due now")
    config = notifier_config(rt.settings)
    channels = build_channels(config, clock=rt.clock)
    redis: Redis | None = Redis.from_url(config.redis_url) if config.redis_url else None
    # With Redis, hold the same Telegram limits as the running workers.
    limiter: Limiter = (
        RedisLimiter(redis, clock=rt.clock) if redis is not None else MemoryLimiter(rt.clock)
    )
    pool = RenderPool(config.render)
    try:
        async with rt.sessions() as session:
            calendar = await load_calendar(session)
        counts = await deliver_due(
            rt.sessions,
            channels=channels,
            renderer=Renderer(DbTemplateStore(rt.sessions), pool=pool),
            clock=rt.clock,
            limiter=limiter,
            options=DeliveryOptions.from_config(config, calendar),
            concurrency=args.concurrency or config.concurrency,
        )
    finally:
        await channels.close()
        await pool.aclose()
        if redis is not None:
            await redis.aclose()
    total = sum(counts.values())
    detail = " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing due"
    print(f"delivered {total} outbox rows: {detail}")
    return 0


async def worker(args: argparse.Namespace, rt: Runtime) -> int:
    """Run the arq worker: cron scan, one job per outbox row, sweeper."""
    from arq.worker import Worker

    from duban.process import notifier_deps, settle_gc
    from notifier.worker import worker_settings

    if rt.settings.redis_url is None:
        raise CliError(
            "duban worker needs DUBAN_REDIS_URL; without Redis, `duban run` scans and "
            "delivers inside its own process"
        )
    arq_worker = Worker(**worker_settings(notifier_deps(rt), burst=args.burst))
    settle_gc()  # as `duban run` does: the scan and delivery allocate much per tick
    try:
        await arq_worker.async_run()
    except asyncio.CancelledError:
        log.info("worker stopped")
    finally:
        await arq_worker.close()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``deliver`` and ``worker``."""
    p = subparsers.add_parser("deliver", help="deliver the outbox rows that are due now")
    p.add_argument("--pending", action="store_true", help="deliver every due pending row now")
    p.add_argument(
        "--concurrency", type=int, help="deliveries in flight at once (DUBAN_DELIVERY_CONCURRENCY)"
    )
    p.set_defaults(handler=deliver_pending)
    p = subparsers.add_parser("worker", help="run the arq worker (needs DUBAN_REDIS_URL)")
    p.add_argument("--burst", action="store_true", help="stop once the queue is empty")
    p.set_defaults(handler=worker)
