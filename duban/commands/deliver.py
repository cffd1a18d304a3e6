"""``duban deliver --pending`` (deliver every due outbox row now) and ``duban worker`` (arq)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

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
    from notifier.delivery import Deliverer, DeliveryOptions
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
        deliverer = Deliverer(
            rt.sessions,
            channels=channels,
            renderer=Renderer(DbTemplateStore(rt.sessions), pool=pool),
            clock=rt.clock,
            limiter=limiter,
            options=DeliveryOptions.from_config(config, calendar),
            concurrency=args.concurrency or config.concurrency,
        )
        counts = await deliverer.deliver_due()
    finally:
        await channels.close()
        await pool.aclose()
        if redis is not None:
            await redis.aclose()
    total = sum(counts.values())
    detail = " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing due"
    print(f"delivered {total} outbox rows: {detail}")
    if counts["error"]:
        # The cause of each failed batch is in the log above ("delivery batch failed: ...").
        print(
            f"duban: error: {counts['error']} delivery batch(es) failed and were not recorded; "
            "their rows are tried again once their lease runs out",
            file=sys.stderr,
        )
        return 1
    return 0


async def worker(args: argparse.Namespace, rt: Runtime) -> int:
    """Run the arq workers: deliveries (a job per batch of outbox rows), the scan, the sweeper."""
    rt.settings.security.require_secret_key()
    from arq.worker import Worker

    from duban.process import notifier_deps, settle_gc
    from notifier.worker import DeliveryWorker, maintenance_settings, worker_settings

    if rt.settings.redis.url is None:
        raise CliError(
            "duban worker needs DUBAN_REDIS_URL; without Redis, `duban run` scans and "
            "delivers inside its own process"
        )
    deps = notifier_deps(rt)
    if not args.verbose:
        # arq logs two lines per job, i.e. per outbox row; the delivery log says what was sent.
        logging.getLogger("arq.worker").setLevel(logging.WARNING)
    # The delivery worker handles SIGTERM/SIGINT (waiting for sends in flight); the
    # maintenance worker stops with it.
    deliveries = DeliveryWorker(**worker_settings(deps, burst=args.burst))
    upkeep = Worker(**maintenance_settings(deps, burst=args.burst, handle_signals=False))
    settle_gc()  # as `duban run` does: the scan and delivery allocate much per tick
    upkeep_run: asyncio.Future[None] | None = None
    try:
        if args.burst:  # scan and sweep once, then deliver what they queued
            await upkeep.async_run()
        else:
            upkeep_run = asyncio.ensure_future(upkeep.async_run())
        await deliveries.async_run()
    except asyncio.CancelledError:
        log.info("worker stopped")
    finally:
        if upkeep_run is not None:
            upkeep_run.cancel()
            await asyncio.gather(upkeep_run, return_exceptions=True)
        await deliveries.close()
        await upkeep.close()
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
