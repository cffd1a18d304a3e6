"""The in-process runner for single-process mode (``duban run`` without Redis).

Every ``scan_interval_seconds`` (at once when a row is due, sooner when one falls due) it
runs the same scan and delivery code as the arq worker: ``scan_once``, then every due row
with bounded concurrency.
``wake()`` starts a round early (e.g. right after the web admin queued a message); setting
``stop`` ends it cleanly.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Final, Self

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from models.db import failure_text
from notifier.channels import ChannelRegistry, build_channels
from notifier.config import NotifierConfig
from notifier.delivery import Deliverer, DeliveryOptions
from notifier.ratelimit import Limiter, MemoryLimiter
from notifier.template_store import DbTemplateStore
from notifier.templating import Renderer, RenderPool
from notifier.worker import ScanFn
from supervision.calendar_store import load_calendar
from supervision.clock import Clock, SystemClock
from supervision.outbox import OUTBOX_WRITTEN, first_due_at

log = logging.getLogger("duban.runner")

#: seconds to wait at least after a round that failed, though rows are due
ERROR_PAUSE: Final = 5.0


@dataclass(frozen=True)
class LastRound:
    """How a scan or delivery round ended."""

    at: datetime
    ok: bool
    detail: str


@dataclass
class RoundLog:
    """The last scan and delivery round of this process (``/healthz`` reads it)."""

    scan: LastRound | None = None
    delivery: LastRound | None = None


@dataclass
class RoundResult:
    """What one round did."""

    scan: str = ""
    delivered: Counter[str] = field(default_factory=Counter)


class Runner:
    """Scan and deliver in this process, round after round, until stopped."""

    def __init__(
        self,
        config: NotifierConfig,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock | None = None,
        scan: ScanFn | None = None,
        channels: ChannelRegistry | None = None,
        renderer: Renderer | None = None,
        limiter: Limiter | None = None,
        log_to: RoundLog | None = None,
    ) -> None:
        self.config = config
        self.last = log_to or RoundLog()
        self.sessions = sessions
        self.clock = clock or SystemClock()
        self.scan = scan
        self._own_channels = channels is None
        self.channels = channels or build_channels(config, clock=self.clock)
        # Without a renderer given, this runner starts its own render workers and stops them.
        self._own_pool = None if renderer else RenderPool(config.render)
        self.renderer = renderer or Renderer(DbTemplateStore(sessions), pool=self._own_pool)
        self.limiter = limiter or MemoryLimiter(self.clock)
        self.deliverer = Deliverer(
            sessions,
            channels=self.channels,
            renderer=self.renderer,
            clock=self.clock,
            limiter=self.limiter,
            options=DeliveryOptions.from_config(config),
            concurrency=config.concurrency,
        )
        self._wake = asyncio.Event()
        self.rounds = 0

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channels and render workers this runner opened."""
        if self._own_channels:
            await self.channels.close()
        if self._own_pool is not None:
            await self._own_pool.aclose()

    def wake(self) -> None:
        """Start the next round now."""
        self._wake.set()

    @contextmanager
    def waking_on_outbox_commits(self) -> Iterator[None]:
        """While inside, any commit in this process that wrote outbox rows wakes the runner,
        so a message queued by the web admin or the bot goes out at once, not next round."""

        def after_commit(session: Session) -> None:
            if session.info.pop(OUTBOX_WRITTEN, False):
                self.wake()

        event.listen(Session, "after_commit", after_commit)
        try:
            yield
        finally:
            event.remove(Session, "after_commit", after_commit)

    async def run_round(self, stop: asyncio.Event | None = None) -> RoundResult:
        """One scan, then delivery of everything due; both recorded in ``self.last``."""
        result = RoundResult()
        try:
            async with self.sessions() as session:
                calendar = await load_calendar(session)
        except Exception as exc:
            self._ended("scan", ok=False, detail=failure_text(exc))
            self._ended("delivery", ok=False, detail=failure_text(exc))
            raise
        if self.scan is not None:
            try:
                result.scan = str(
                    await self.scan(
                        self.sessions, clock=self.clock, tz=self.config.tz, calendar=calendar
                    )
                )
                self._ended("scan", ok=True, detail=result.scan)
            except Exception as exc:
                log.exception("scan failed; delivering what is already queued")
                self._ended("scan", ok=False, detail=failure_text(exc))
        try:
            # The calendar read for this round's scan serves its deliveries too.
            self.deliverer.options = replace(self.deliverer.options, calendar=calendar)
            result.delivered = await self.deliverer.deliver_due(stop)
        except Exception as exc:
            self._ended("delivery", ok=False, detail=failure_text(exc))
            raise
        failed = result.delivered.get("error", 0)
        self._ended(
            "delivery",
            ok=not failed,
            detail=(
                f"{failed} batch(es) could not be claimed or recorded (see the log)"
                if failed
                else " ".join(f"{k}={v}" for k, v in sorted(result.delivered.items()))
                or "nothing due"
            ),
        )
        self.rounds += 1
        if result.delivered:
            log.info("delivery round: %s", dict(result.delivered))
        return result

    def _ended(self, part: str, *, ok: bool, detail: str) -> None:
        setattr(self.last, part, LastRound(at=self.clock.now(), ok=ok, detail=detail))

    async def next_round_in(self) -> float:
        """Seconds until the next round: the scan interval, or sooner when a row falls due
        (0 when one is due already: fell due during the last round, or its lease ran out)."""
        now = self.clock.now()
        async with self.sessions() as session:
            soonest = await first_due_at(session)
        pause = self.config.scan_interval_seconds
        if soonest is not None:
            pause = min(pause, max(0.0, (soonest - now).total_seconds()))
        return pause

    async def run(self, stop: asyncio.Event) -> None:
        """Run rounds every ``scan_interval_seconds`` until ``stop`` is set."""
        log.info(
            "in-process notifier running every %ss; channels: %s",
            self.config.scan_interval_seconds,
            ", ".join(self.channels.kinds),
        )
        while not stop.is_set():
            self._wake.clear()  # a wake() during the round asks for one more right after
            failed = False
            try:
                failed = bool((await self.run_round(stop)).delivered.get("error"))
            except Exception:
                failed = True
                log.exception("delivery round failed; next round as scheduled")
            try:
                pause = await self.next_round_in()
            except Exception:
                log.exception("could not read the outbox; next round as scheduled")
                pause = self.config.scan_interval_seconds
            if failed:
                # Rows left due by a failing database must not spin the loop.
                pause = max(pause, min(ERROR_PAUSE, self.config.scan_interval_seconds))
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        log.info("in-process notifier stopped")
