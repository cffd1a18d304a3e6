"""Delivering outbox rows: claim a batch under lock, re-check the cause, render, send, record.

A batch of due rows is claimed in one short transaction: one UPDATE takes them (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL; the UPDATE re-checks that each is still due, so of two SQLite
claimers only one gets a row) and marks them ``sending`` with a lease in ``next_attempt_at``;
their records are read in a few queries for the whole batch, each is rendered and gets an
in-flight attempt. The messages are sent OUTSIDE any transaction, each once its rate-limit
slot is granted, and the batch's results are recorded in a second transaction. A crash between
the two leaves ``sending`` rows whose lease runs out; they are then claimed again, so a
message in flight at a crash may go out twice (at-least-once).

A :class:`Deliverer` holds the session factory, channels, renderer, clock, rate limiter and
options; :meth:`Deliverer.deliver_rows` does this for a batch of rows (one arq job),
:meth:`Deliverer.deliver` for one row, :meth:`Deliverer.deliver_due` for every due row, in
batches; each with up to ``concurrency`` sends in flight.

``attempts`` on the row counts the tries that use up the retry schedule; a provider's "slow
down" (429) is logged as an attempt but only waits its ``retry_after``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.errors import MessageError
from enum import StrEnum
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    DeliveryAttempt,
    Notification,
    NotificationStatus,
)
from models import DeliveryOutcome as AttemptOutcome
from models.db import failure_text, lost_connection
from notifier.channels.base import (
    ChannelRegistry,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
    scrub,
)
from notifier.config import DEFAULT_RETRY_SCHEDULE, NotifierConfig
from notifier.context import BuiltContext, ContextConfig, build_contexts
from notifier.messages import cause_gone, outgoing_message, render_all, thread_roots
from notifier.ratelimit import Limiter
from notifier.routing import Router
from notifier.templating import (
    RenderedMessage,
    Renderer,
    TemplateError,
    TemplateInvalid,
)
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.outbox import PENDING, SENDING, due_at, due_clause
from supervision.sealing import Sealer

log = logging.getLogger("duban.notifier")

#: the attempt row's outcome while its send is in flight (a crash leaves it so)
IN_FLIGHT = AttemptOutcome.SENDING


class Outcome(StrEnum):
    """What delivering one row came to."""

    SENT = "sent"
    RETRY = "retry"  # transient failure; pending again until retry_at
    FAILED = "failed"  # permanent failure or retries used up (maybe fell back: fallback_id)
    # the cause is gone (assignment closed, …), or the person's preference moved the
    # message to another channel (``fallback_id``); nothing sent
    CANCELLED = "cancelled"
    DEFERRED = "deferred"  # rate limit: not tried, due again at retry_at
    NOT_DUE = "not_due"
    BUSY = "busy"  # another worker holds the row
    DONE = "done"  # already sent, failed or cancelled
    MISSING = "missing"


@dataclass(frozen=True)
class DeliveryResult:
    """The result of delivering one row."""

    notification_id: int
    outcome: Outcome
    retry_at: datetime | None = None
    fallback_id: int | None = None
    error: str | None = None


def default_worker_name() -> str:
    """``host:pid``, recorded on every attempt."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class DeliveryOptions:
    """Retry schedule, lease and the office values messages show."""

    retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    lease_seconds: float = 300.0
    max_wait_seconds: float = 10.0
    context: ContextConfig = field(default_factory=ContextConfig)
    #: None: load the working-day calendar from the database for each delivery
    calendar: WorkCalendar | None = None
    worker: str = field(default_factory=default_worker_name)

    @classmethod
    def from_config(
        cls, config: NotifierConfig, calendar: WorkCalendar | None = None
    ) -> DeliveryOptions:
        """Options from the notifier configuration."""
        return cls(
            retry_schedule=config.retry_schedule,
            lease_seconds=config.lease_seconds,
            max_wait_seconds=config.max_wait_seconds,
            context=ContextConfig(
                office_name=config.office_name,
                base_url=config.base_url,
                tz=config.tz,
                sealer=Sealer(config.secret_key) if config.secret_key else None,
            ),
            calendar=calendar,
            worker=config.worker_name or default_worker_name(),
        )


def _readiness(row: Notification, now: datetime) -> DeliveryResult | None:
    """None when ``row`` may be claimed now, else why not."""
    if row.status not in (PENDING, SENDING):
        return DeliveryResult(row.id, Outcome.DONE)
    due = due_at(row.status, row.not_before, row.next_attempt_at)
    if due is not None and due <= now:
        return None
    return DeliveryResult(
        row.id, Outcome.NOT_DUE if row.status == PENDING else Outcome.BUSY, retry_at=due
    )


@dataclass
class _Claim:
    message: OutgoingMessage
    attempt_id: int
    channel_kind: str


@dataclass(frozen=True)
class _Try:
    """What came of one claimed row's send, to be recorded."""

    claim: _Claim
    result: SendResult | None = None
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None
    #: not tried (rate limit, pause, stopping): the row is due again after this many seconds
    release_after: float | None = None


@dataclass
class _Batch:
    """Rows claimed in one transaction: to send, or settled already (cancelled, no render)."""

    claims: list[_Claim] = field(default_factory=list)
    settled: list[DeliveryResult] = field(default_factory=list)
    #: the highest id claimed (0: none)
    last_id: int = 0


async def _as_recorded(
    session: AsyncSession, tried: _Try, row: Notification | None
) -> DeliveryResult:
    """What recording ``tried`` came to, read back from its row after it was recorded."""
    nid = tried.claim.message.notification_id
    if tried.release_after is not None:
        retry_at = row.next_attempt_at if row is not None else None
        return DeliveryResult(nid, Outcome.DEFERRED, retry_at=retry_at)
    if row is None:
        return DeliveryResult(nid, Outcome.MISSING)
    if row.status == NotificationStatus.SENT:
        return DeliveryResult(nid, Outcome.SENT)
    if row.status == PENDING:
        return DeliveryResult(
            nid, Outcome.RETRY, retry_at=row.next_attempt_at, error=row.last_error
        )
    if row.status == NotificationStatus.FAILED:
        fallback_id = await session.scalar(
            select(Notification.id).where(Notification.fallback_of_id == row.id).limit(1)
        )
        return DeliveryResult(nid, Outcome.FAILED, fallback_id=fallback_id, error=row.last_error)
    return DeliveryResult(nid, Outcome.DONE, error=row.last_error)


def _retry_delay(schedule: Sequence[float], attempts: int) -> float | None:
    """Seconds before retry ``attempts`` (1-based), or None once the schedule is used up."""
    if attempts > len(schedule):
        return None
    return float(schedule[attempts - 1])


#: claimers running at once in :meth:`Deliverer.deliver_due`: one sends while another reads or
#: writes
LANES: Final = 2
#: seconds between tries to record sent messages after the database connection was lost
RECORD_RETRIES: Final = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)


class Deliverer:
    """Delivers outbox rows; holds what every delivery needs, as arq's ``Worker`` does.

    Built once per process (the runner, the arq worker, ``duban deliver``); its calls take
    only the work: :meth:`deliver_rows` a batch of rows (an arq job), :meth:`deliver` one row,
    :meth:`deliver_due` every due row.
    ``options`` may be replaced between calls (the runner and the worker refresh the
    calendar in it).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        channels: ChannelRegistry,
        renderer: Renderer,
        clock: Clock,
        limiter: Limiter,
        options: DeliveryOptions | None = None,
        concurrency: int = 10,
        batch: int = 500,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.renderer = renderer
        self.clock = clock
        self.limiter = limiter
        self.options = options or DeliveryOptions()
        #: the person's channel preference at delivery, and the next channel on failure
        self.router = Router(channels.configured)
        #: sends in flight at once (in :meth:`deliver_due`, or over the calls of
        #: :meth:`deliver_rows` running at once), and the largest claim of :meth:`deliver_due`
        self.concurrency = concurrency
        self.batch = batch
        #: pauses between tries to record sent messages after a lost database connection
        self.record_retries: Sequence[float] = RECORD_RETRIES
        # The bound on sends in flight that the calls of :meth:`deliver_rows` running at once
        # share (made on first use, in the loop that uses it).
        self._gate: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore] | None = None

    async def _fail_or_retry(
        self,
        session: AsyncSession,
        row: Notification,
        *,
        now: datetime,
        error: str,
        permanent: bool,
        retry_after: float | None,
    ) -> DeliveryResult:
        """Update a row after a failed try: pending with a retry time, or failed (+ fallback)."""
        if retry_after is None:
            row.attempts += 1
        delay = (
            retry_after
            if retry_after is not None
            else _retry_delay(self.options.retry_schedule, row.attempts)
        )
        row.last_error = error
        if not permanent and delay is not None:
            row.status = PENDING
            row.next_attempt_at = now + timedelta(seconds=delay)
            log.warning(
                "notification %s: transient failure, retry %d at %s: %s",
                row.id, row.attempts, row.next_attempt_at.isoformat(), error,
            )  # fmt: skip
            return DeliveryResult(row.id, Outcome.RETRY, retry_at=row.next_attempt_at, error=error)
        if not permanent:
            row.last_error = f"gave up after {row.attempts} attempts: {error}"
        row.status = NotificationStatus.FAILED
        row.next_attempt_at = None
        fallback_id = await self.router.fall_back(session, row, now)
        log.warning(
            "notification %s failed (%s)%s: %s",
            row.id,
            "permanent" if permanent else "retries used up",
            f", fallback {fallback_id}" if fallback_id else "",
            error,
        )
        return DeliveryResult(row.id, Outcome.FAILED, fallback_id=fallback_id, error=row.last_error)

    async def _claim(
        self,
        *,
        ids: Sequence[int] | None,
        after_id: int,
        limit: int,
        calendar: WorkCalendar | None,
    ) -> _Batch:
        """Take up to ``limit`` due rows (of ``ids``, or any after ``after_id``) under a lease,
        re-check each one's cause, render it and log an in-flight attempt: one transaction."""
        async with self.sessions() as session, session.begin():
            now = self.clock.now()
            lease = now + timedelta(seconds=self.options.lease_seconds)
            due = select(Notification.id).where(due_clause(now), Notification.id > after_id)
            if ids is not None:
                due = due.where(Notification.id.in_(ids))
            # A materialised CTE: PostgreSQL runs it once (as ``IN (subquery)`` it may run the
            # LIMIT again for more rows than asked).
            picked = (
                due.order_by(Notification.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
                .cte("picked")
                .prefix_with("MATERIALIZED")
            )
            # The due clause again on the UPDATE: SQLite takes no row lock on SELECT, so of two
            # claimers only the one whose UPDATE still finds the row due gets it.
            taken = await session.scalars(
                update(Notification)
                .where(Notification.id == picked.c.id, due_clause(now))
                .values(status=SENDING, next_attempt_at=lease)
                .returning(Notification),
                execution_options={"synchronize_session": False},
            )
            rows = sorted(taken.all(), key=lambda r: r.id)
            if not rows:
                return _Batch()
            # A row taken over after its lease ran out: its worker's attempt is written off.
            await session.execute(
                update(DeliveryAttempt)
                .where(
                    DeliveryAttempt.notification_id.in_([r.id for r in rows]),
                    DeliveryAttempt.outcome == IN_FLIGHT,
                )
                .values(
                    outcome=AttemptOutcome.TRANSIENT,
                    finished_at=now,
                    error="abandoned: the worker stopped before recording a result (lease ran out)",
                )
            )
            calendar = calendar or self.options.calendar or await load_calendar(session)
            builts = await build_contexts(
                session, rows, config=self.options.context, clock=self.clock, calendar=calendar
            )
            roots = await thread_roots(session, rows)
            rendered = await render_all(rows, builts, self.renderer)
            batch = _Batch(last_id=rows[-1].id)
            sending: list[tuple[DeliveryAttempt, OutgoingMessage]] = []
            for row, built in zip(rows, builts, strict=True):
                try:
                    prepared = await self._prepare(
                        session, row, built, roots.get(row.id), rendered=rendered.get(row.id),
                        now=now,
                    )  # fmt: skip
                except Exception as exc:
                    # A bug or bad data in one row must not hold up the batch (nor, as the lowest
                    # due id, every later one): the row is retried on the schedule. Only the type
                    # is kept: the message of an unknown error may carry a secret.
                    error = f"unexpected {type(exc).__name__} while preparing the message"
                    log.error("notification %s: %s", row.id, error)
                    prepared = await self._unrenderable(session, row, row.channel, error, now=now)
                if isinstance(prepared, DeliveryResult):
                    batch.settled.append(prepared)
                else:
                    session.add(prepared[0])
                    sending.append(prepared)
            await session.flush()  # the attempts' ids, in one INSERT
            batch.claims = [
                _Claim(message=m, attempt_id=a.id, channel_kind=a.channel) for a, m in sending
            ]
            return batch

    async def _prepare(
        self,
        session: AsyncSession,
        row: Notification,
        built: BuiltContext | Exception,
        root: str | None,
        *,
        rendered: RenderedMessage | TemplateError | None,
        now: datetime,
    ) -> DeliveryResult | tuple[DeliveryAttempt, OutgoingMessage]:
        """One claimed row: settled here (cause gone, unreadable, unrenderable), or made into
        its message (``rendered`` by :func:`notifier.messages.render_all`) and an in-flight
        attempt (not yet added to the session)."""
        channel = self.channels.get(row.channel)
        if isinstance(built, Exception):
            error = f"unexpected {type(built).__name__} while reading the message's records"
            log.error("notification %s: %s", row.id, error)
            return await self._unrenderable(session, row, channel.kind, error, now=now)
        gone = cause_gone(row, built)
        if gone is not None:
            return self._cancel(session, row, gone, now=now)
        moved = await self.router.moved(session, row, built.recipient, now=now)
        if moved is not None:
            cancelled = self._cancel(session, row, moved.reason, now=now)
            return replace(cancelled, fallback_id=moved.stand_in_id)
        if not isinstance(rendered, RenderedMessage):
            exc = rendered or TemplateError("not rendered")
            error = f"template {built.template_step}.{row.channel}: {exc}"
            # A bad template (unsafe, over its limits, invalid) fails the same way every time:
            # the row fails for good now. Bad data or unavailable workers are retried.
            return await self._unrenderable(
                session, row, channel.kind, error, now=now,
                permanent=isinstance(exc, TemplateInvalid),
            )  # fmt: skip
        message = outgoing_message(row, built, rendered, root)
        # What was sent is kept, without its secrets (an invite link is shown to nobody again).
        row.subject, row.body_text = rendered.subject, scrub(rendered.text, built.secrets)
        row.body_html = scrub(rendered.html, built.secrets) if rendered.html else rendered.html
        attempt = DeliveryAttempt(
            notification_id=row.id,
            channel=channel.kind,
            started_at=now,
            outcome=IN_FLIGHT,
            worker=self.options.worker,
        )
        return attempt, message

    def _cancel(
        self, session: AsyncSession, row: Notification, gone: str, *, now: datetime
    ) -> DeliveryResult:
        """Drop a claimed row whose cause is gone: cancelled, with a skipped attempt."""
        row.status = NotificationStatus.CANCELLED
        row.last_error = gone
        row.next_attempt_at = None
        session.add(
            DeliveryAttempt(
                notification_id=row.id,
                channel=row.channel,
                started_at=now,
                finished_at=now,
                outcome=AttemptOutcome.SKIPPED,
                error=gone,
                worker=self.options.worker,
            )
        )
        log.info("notification %s cancelled: %s", row.id, gone)
        return DeliveryResult(row.id, Outcome.CANCELLED, error=gone)

    async def _unrenderable(
        self,
        session: AsyncSession,
        row: Notification,
        channel_kind: str,
        error: str,
        *,
        now: datetime,
        permanent: bool = False,
    ) -> DeliveryResult:
        """A claimed row that could not be rendered: a transient try, retried on the schedule,
        or with ``permanent`` a failed one (the row fails now)."""
        session.add(
            DeliveryAttempt(
                notification_id=row.id,
                channel=channel_kind,
                started_at=now,
                finished_at=now,
                outcome=(AttemptOutcome.PERMANENT if permanent else AttemptOutcome.TRANSIENT).value,
                error=error,
                worker=self.options.worker,
            )
        )
        return await self._fail_or_retry(
            session, row, now=now, error=error, permanent=permanent, retry_after=None
        )

    async def _send(self, claim: _Claim, stop: asyncio.Event | None) -> _Try:
        """Send one claimed message once its rate-limit slot is granted (or give it back)."""
        message = claim.message
        if stop is not None and stop.is_set():
            return _Try(claim, release_after=0.0)
        channel = self.channels.get(message.channel)
        limiter = self.limiter
        try:
            # The rate limiter is in the try too: with Redis down, this row is retried on the
            # schedule, and the batch's other results are still recorded.
            rates = channel.rates(message) if channel.kind == message.channel else ()
            wait = await limiter.acquire(rates, max_wait=self.options.max_wait_seconds)
            if wait > 0:
                return _Try(claim, release_after=wait)
            # Another worker may have hit a 429 since our slot was granted: hold the send.
            paused = await limiter.paused_for(rates)
            if paused > 0:
                return _Try(claim, release_after=paused)
            return _Try(claim, result=await channel.send(message))
        except RateLimited as exc:
            try:
                await limiter.pause(exc.pause_key, exc.retry_after)
            except Exception as failed:
                log.error(
                    "notification %s: could not share a %ss pause: %s",
                    message.notification_id,
                    exc.retry_after,
                    type(failed).__name__,
                )
            return _Try(claim, error=str(exc), retry_after=exc.retry_after)
        except TransientError as exc:
            return _Try(claim, error=str(exc))
        except PermanentError as exc:
            return _Try(claim, error=str(exc), permanent=True)
        except (MessageError, UnicodeError) as exc:
            # The message or its address cannot be encoded: the same row fails the same way on
            # every try, so it fails now rather than after the whole retry schedule.
            return _Try(
                claim,
                error=f"the message cannot be built: {type(exc).__name__}: {exc}",
                permanent=True,
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # A bug, an unmapped library error or a limiter that cannot be reached: retry on the
            # schedule, never crash the worker. Only the type is kept: the message of an unknown
            # error may carry a secret.
            log.error(
                "notification %s: unexpected %s while sending",
                message.notification_id,
                type(exc).__name__,
            )
            return _Try(claim, error=f"unexpected error: {type(exc).__name__}")

    async def _record(self, tries: Sequence[_Try]) -> list[DeliveryResult]:
        """Write the tries' results and move their rows on, in one transaction.

        The messages are out: a lost database connection must not make them go out again
        after the lease. So the recording is tried again on a new connection, after
        :data:`RECORD_RETRIES` pauses; when the transaction that was lost did commit, the
        second one finds the results recorded and reports them as they were."""
        if not tries:
            return []
        now = self.clock.now()
        for n, pause in enumerate((*self.record_retries, None)):
            try:
                return await self._record_once(tries, now=now, again=n > 0)
            except Exception as exc:
                if pause is None or not lost_connection(exc):
                    raise
                log.warning(
                    "recording %d deliveries: the database connection was lost (%s); "
                    "trying again in %.1f s",
                    len(tries), failure_text(exc), pause,
                )  # fmt: skip
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _record_once(
        self,
        tries: Sequence[_Try],
        *,
        now: datetime,
        again: bool,
    ) -> list[DeliveryResult]:
        async with self.sessions() as session, session.begin():
            ids = sorted(t.claim.message.notification_id for t in tries)
            rows = {
                r.id: r
                for r in await session.scalars(
                    select(Notification)
                    .where(Notification.id.in_(ids))
                    .order_by(Notification.id)
                    .with_for_update()
                )
            }
            attempts = {
                a.id: a
                for a in await session.scalars(
                    select(DeliveryAttempt).where(
                        DeliveryAttempt.id.in_([t.claim.attempt_id for t in tries])
                    )
                )
            }
            if again and any(
                a.outcome != IN_FLIGHT and a.finished_at == now and a.worker == self.options.worker
                for a in attempts.values()
            ):
                # The transaction that was lost had committed: this call's results are there.
                return [
                    await _as_recorded(session, t, rows.get(t.claim.message.notification_id))
                    for t in tries
                ]
            return [
                await self._record_one(
                    session,
                    t,
                    rows.get(t.claim.message.notification_id),
                    attempts.get(t.claim.attempt_id),
                    now=now,
                )
                for t in tries
            ]

    async def _record_one(
        self,
        session: AsyncSession,
        tried: _Try,
        row: Notification | None,
        attempt: DeliveryAttempt | None,
        *,
        now: datetime,
    ) -> DeliveryResult:
        """One try's result: the attempt finished, the row sent, retried, failed or given back."""
        nid = tried.claim.message.notification_id
        # Still ours unless the lease ran out and another worker wrote this attempt off.
        ours = attempt is not None and attempt.outcome == IN_FLIGHT
        if tried.release_after is not None:
            # No try was made: the attempt goes, the row is pending again.
            retry_at = now + timedelta(seconds=tried.release_after)
            if ours and attempt is not None:
                await session.delete(attempt)
                if row is not None and row.status == SENDING:
                    row.status, row.next_attempt_at = PENDING, retry_at
            return DeliveryResult(nid, Outcome.DEFERRED, retry_at=retry_at)
        result, error = tried.result, tried.error
        if attempt is not None:
            attempt.finished_at = now
            if result is not None:
                attempt.outcome = AttemptOutcome.SENT
                attempt.provider_message_id = result.provider_message_id
                attempt.error = result.note
            else:
                attempt.outcome = (
                    AttemptOutcome.PERMANENT if tried.permanent else AttemptOutcome.TRANSIENT
                )
                attempt.error = error
            if not ours:
                attempt.error = "result came after the lease ran out; another worker took over" + (
                    f": {attempt.error}" if attempt.error else ""
                )
        if row is None:
            return DeliveryResult(nid, Outcome.MISSING)
        if row.status != SENDING or not ours:
            # The lease ran out and another worker took the row over; it owns the row now.
            return DeliveryResult(nid, Outcome.DONE, error=error)
        if result is not None:
            row.attempts += 1
            row.status = NotificationStatus.SENT
            row.sent_at = now
            row.next_attempt_at = None
            row.provider_message_id = result.provider_message_id
            row.chat_id = result.chat_id
            row.chat_message_id = result.chat_message_id
            row.last_error = result.note
            log.debug("notification %s sent via %s", nid, tried.claim.channel_kind)
            return DeliveryResult(nid, Outcome.SENT)
        return await self._fail_or_retry(
            session,
            row,
            now=now,
            error=error or "unknown error",
            permanent=tried.permanent,
            retry_after=tried.retry_after,
        )

    async def _deliver_batch(
        self,
        *,
        ids: Sequence[int] | None,
        after_id: int,
        limit: int,
        gate: asyncio.Semaphore,
        calendar: WorkCalendar | None = None,
        stop: asyncio.Event | None = None,
        send_by: datetime | None = None,
    ) -> tuple[list[DeliveryResult], int]:
        """Claim a batch, send it (``gate`` bounds the sends in flight), record it.

        The lease rule: a row's send starts only within the first half of its lease (and
        before ``send_by``); one still waiting for its turn then is given back unsent, due
        now, so its lease covers the send that was started and its recording. When the call
        is cancelled (an arq job's timeout), what was sent is recorded and the rest is given
        back before the cancellation goes on: nothing is left to be sent again after the lease.

        Returns the results and the highest id claimed (0 when nothing was due).
        """
        claimed_at = self.clock.now()
        batch = await self._claim(ids=ids, after_id=after_id, limit=limit, calendar=calendar)
        start_by = claimed_at + timedelta(seconds=self.options.lease_seconds / 2)
        if send_by is not None:
            start_by = min(start_by, send_by)

        async def one(claim: _Claim) -> _Try:
            async with gate:
                if self.clock.now() >= start_by:
                    return _Try(claim, release_after=0.0)
                return await self._send(claim, stop)

        sends = [asyncio.ensure_future(one(c)) for c in batch.claims]
        try:
            tries = await asyncio.gather(*sends)
        except asyncio.CancelledError:
            for task in sends:
                task.cancel()
            await asyncio.gather(*sends, return_exceptions=True)
            ended = [
                t.result() if not t.cancelled() and t.exception() is None else None for t in sends
            ]
            given_back = [
                tried or _Try(claim, release_after=0.0)
                for tried, claim in zip(ended, batch.claims, strict=True)
            ]
            log.warning(
                "delivery batch cut off: recording %d sent, giving back %d",
                sum(t is not None for t in ended), sum(t is None for t in ended),
            )  # fmt: skip
            await asyncio.shield(self._record(given_back))
            raise
        recorded = await self._record(tries)
        sent = sum(r.outcome == Outcome.SENT for r in recorded)
        if sent:
            log.info("%d of %d claimed notifications sent", sent, len(batch.claims))
        return batch.settled + recorded, batch.last_id

    async def deliver_rows(
        self, ids: Sequence[int], *, send_by: datetime | None = None
    ) -> list[DeliveryResult]:
        """Claim those of ``ids`` that are due, send them and record them (one arq job).

        The calls running at once share one bound of ``concurrency`` sends in flight, as the
        batches of :meth:`deliver_due` do. A row not due, held by another worker or settled
        already is left alone and has no result here. With ``send_by`` (the job's own
        deadline) nothing is claimed from then on, and no send starts after it."""
        wanted = sorted(set(ids))
        if not wanted or (send_by is not None and self.clock.now() >= send_by):
            return []
        loop = asyncio.get_running_loop()
        if self._gate is None or self._gate[0] is not loop:
            self._gate = (loop, asyncio.Semaphore(max(1, self.concurrency)))
        results, _ = await self._deliver_batch(
            ids=wanted, after_id=0, limit=len(wanted), gate=self._gate[1], send_by=send_by
        )
        return results

    async def deliver(self, notification_id: int) -> DeliveryResult:
        """Deliver one outbox row if it is due; safe to call twice or from several workers."""
        for result in await self.deliver_rows([notification_id]):
            return result
        # Not taken: say why.
        async with self.sessions() as session:
            row = await session.get(Notification, notification_id)
            if row is None:
                return DeliveryResult(notification_id, Outcome.MISSING)
            return _readiness(row, self.clock.now()) or DeliveryResult(row.id, Outcome.BUSY)

    async def deliver_due(self, stop: asyncio.Event | None = None) -> Counter[str]:
        """Deliver every row due now (fallback rows made on the way too); counts by outcome.

        Rows are claimed in id order in batches of up to ``concurrency`` (at most ``batch``),
        each at most once per call; a batch is claimed while the one before it is still
        sending. Setting ``stop`` ends the call after the batches in flight.
        """
        calendar = self.options.calendar
        if calendar is None:
            async with self.sessions() as session:
                calendar = await load_calendar(session)
        counts: Counter[str] = Counter()
        width = max(1, self.concurrency)
        gate = asyncio.Semaphore(width)
        size = max(1, min(self.batch, width))
        last = 0

        async def lane() -> None:
            nonlocal last
            while stop is None or not stop.is_set():
                try:
                    results, top = await self._deliver_batch(
                        ids=None, after_id=last, limit=size, gate=gate, calendar=calendar, stop=stop
                    )
                except Exception as exc:
                    # A database hiccup: this lane stops; claimed rows come back after their
                    # lease.
                    log.error("delivery batch failed: %s", failure_text(exc))
                    counts["error"] += 1
                    return
                if not top:
                    return
                last = max(last, top)
                counts.update(r.outcome.value for r in results)

        await asyncio.gather(*(lane() for _ in range(LANES if width > 1 else 1)))
        return counts
