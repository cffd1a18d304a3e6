"""Delivering outbox rows: claim under a lock, re-check the cause, render, send, record.

One row at a time (:func:`deliver`): the row is claimed in a short transaction (``sending``
with a lease in ``next_attempt_at``), sent OUTSIDE any transaction, and the result recorded in
a second one. A crash between the two leaves a ``sending`` row whose lease runs out; it is
then claimed again, so a message in flight at a crash may go out twice (at-least-once).

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
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import (
    DeliveryAttempt,
    GroupWebhook,
    Notification,
    NotificationStatus,
    Person,
)
from models import DeliveryOutcome as AttemptOutcome
from notifier.channels.base import (
    ChannelRegistry,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
)
from notifier.config import DEFAULT_RETRY_SCHEDULE, NotifierConfig
from notifier.context import LADDER_STEPS, ContextConfig, build_context
from notifier.ratelimit import Limiter
from notifier.templating import Renderer, TemplateError
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.outbox import CHAT, EMAIL, add

log = logging.getLogger("duban.notifier")

#: the attempt row's outcome while its send is in flight (a crash leaves it so)
IN_FLIGHT = AttemptOutcome.SENDING.value
PENDING, SENDING = NotificationStatus.PENDING.value, NotificationStatus.SENDING.value


class Outcome(StrEnum):
    """What one call of :func:`deliver` came to."""

    SENT = "sent"
    RETRY = "retry"  # transient failure; pending again until retry_at
    FAILED = "failed"  # permanent failure or retries used up (maybe fell back)
    CANCELLED = "cancelled"  # the cause is gone (assignment closed, …); nothing sent
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
                office_name=config.office_name, base_url=config.base_url, tz=config.tz
            ),
            calendar=calendar,
            worker=config.worker_name or default_worker_name(),
        )


def due_clause(now: datetime) -> ColumnElement[bool]:
    """SQL: rows to deliver now — pending and due, or sending with a lapsed lease."""
    return or_(
        and_(
            Notification.status == PENDING,
            Notification.not_before <= now,
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        ),
        and_(Notification.status == SENDING, Notification.next_attempt_at <= now),
    )


def _readiness(row: Notification, now: datetime) -> DeliveryResult | None:
    """None when ``row`` may be claimed now, else why not."""
    if row.status == PENDING:
        due_at = max(row.not_before, row.next_attempt_at or row.not_before)
        if due_at > now:
            return DeliveryResult(row.id, Outcome.NOT_DUE, retry_at=due_at)
        return None
    if row.status == SENDING:
        if row.next_attempt_at is not None and row.next_attempt_at <= now:
            return None
        return DeliveryResult(row.id, Outcome.BUSY, retry_at=row.next_attempt_at)
    return DeliveryResult(row.id, Outcome.DONE)


def _probe(row: Notification) -> OutgoingMessage:
    """Enough of a message for a channel to name its rate limits."""
    return OutgoingMessage(
        notification_id=row.id,
        kind=row.kind,
        channel=row.channel,
        address=row.address,
        text="",
        webhook_id=row.webhook_id,
    )


async def _cause_gone(session: AsyncSession, row: Notification) -> str | None:
    """Why a reminder must not go out any more (Grafana OnCall-style re-check), or None."""
    if row.recipient_id is not None:
        person = await session.get(Person, row.recipient_id)
        if person is None or not person.active:
            return "recipient is no longer active"
    if row.webhook_id is not None:
        hook = await session.get(GroupWebhook, row.webhook_id)
        if hook is None or not hook.active:
            return "group webhook removed or disabled"
    return None


@dataclass
class _Claim:
    message: OutgoingMessage
    attempt_id: int
    channel_kind: str


async def _thread_root(session: AsyncSession, row: Notification) -> str | None:
    """Message-ID of the first e-mail of this item already sent to this address."""
    if not row.thread_key or not row.address:
        return None
    return await session.scalar(
        select(Notification.provider_message_id)
        .where(
            Notification.thread_key == row.thread_key,
            Notification.channel == EMAIL,
            Notification.address == row.address,
            Notification.status == NotificationStatus.SENT.value,
            # A real Message-ID, not the log channel's stand-in id.
            Notification.provider_message_id.like("<%"),
            Notification.id != row.id,
        )
        .order_by(Notification.sent_at, Notification.id)
        .limit(1)
    )


async def _fallback(session: AsyncSession, row: Notification, now: datetime) -> int | None:
    """Queue the same message by e-mail after the chat failed for good (once per cause)."""
    if row.channel != CHAT or row.recipient_id is None:
        return None
    person = await session.get(Person, row.recipient_id)
    if person is None or not person.active or not person.email:
        return None
    suffix = f":{CHAT}"
    cause = row.dedupe_key[: -len(suffix)] if row.dedupe_key.endswith(suffix) else row.dedupe_key
    exists = await session.scalar(
        select(Notification.id).where(Notification.dedupe_key == f"{cause}:{EMAIL}")
    )
    if exists is not None:
        return None
    return await add(
        session,
        dedupe_key=f"{row.dedupe_key}:fallback",
        kind=row.kind,
        channel=EMAIL,
        not_before=now,
        recipient_id=person.id,
        address=person.email,
        assignment_id=row.assignment_id,
        item_id=row.item_id,
        locale=row.locale,
        payload=dict(row.payload or {}),
        thread_key=row.thread_key,
        fallback_of_id=row.id,
    )


def _retry_delay(schedule: Sequence[float], attempts: int) -> float | None:
    """Seconds before retry ``attempts`` (1-based), or None once the schedule is used up."""
    if attempts > len(schedule):
        return None
    return float(schedule[attempts - 1])


async def _fail_or_retry(
    session: AsyncSession,
    row: Notification,
    *,
    now: datetime,
    error: str,
    permanent: bool,
    retry_after: float | None,
    options: DeliveryOptions,
) -> DeliveryResult:
    """Update a row after a failed try: pending with a retry time, or failed (+ fallback)."""
    if retry_after is None:
        row.attempts += 1
    delay = (
        retry_after
        if retry_after is not None
        else _retry_delay(options.retry_schedule, row.attempts)
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
    row.status = NotificationStatus.FAILED.value
    row.next_attempt_at = None
    fallback_id = await _fallback(session, row, now)
    log.warning(
        "notification %s failed (%s)%s: %s",
        row.id,
        "permanent" if permanent else "retries used up",
        f", e-mail fallback {fallback_id}" if fallback_id else "",
        error,
    )
    return DeliveryResult(row.id, Outcome.FAILED, fallback_id=fallback_id, error=row.last_error)


async def _claim(
    sessions: async_sessionmaker[AsyncSession],
    notification_id: int,
    *,
    channels: ChannelRegistry,
    renderer: Renderer,
    clock: Clock,
    options: DeliveryOptions,
) -> _Claim | DeliveryResult:
    """Lock, re-check, render and mark the row ``sending`` with a lease."""
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(Notification)
            .where(Notification.id == notification_id)
            .with_for_update(skip_locked=True)
        )
        if row is None:
            exists = await session.scalar(
                select(Notification.id).where(Notification.id == notification_id)
            )
            return DeliveryResult(
                notification_id, Outcome.BUSY if exists is not None else Outcome.MISSING
            )
        now = clock.now()
        blocked = _readiness(row, now)
        if blocked is not None:
            return blocked
        # Compare-and-set on what was read: SQLite takes no row lock on SELECT, so of two
        # claimers only the one whose UPDATE still matches gets the row.
        seen_next = row.next_attempt_at
        lease = now + timedelta(seconds=options.lease_seconds)
        won = await session.execute(
            update(Notification)
            .where(
                Notification.id == row.id,
                Notification.status == row.status,
                Notification.next_attempt_at.is_(None)
                if seen_next is None
                else Notification.next_attempt_at == seen_next,
            )
            .values(status=SENDING, next_attempt_at=lease)
            .execution_options(synchronize_session=False)
        )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            return DeliveryResult(row.id, Outcome.BUSY)
        was_sending = row.status == SENDING
        row.status, row.next_attempt_at = SENDING, lease
        if was_sending:
            await session.execute(
                update(DeliveryAttempt)
                .where(
                    DeliveryAttempt.notification_id == row.id,
                    DeliveryAttempt.outcome == IN_FLIGHT,
                )
                .values(
                    outcome=AttemptOutcome.TRANSIENT.value,
                    finished_at=now,
                    error="abandoned: the worker stopped before recording a result (lease ran out)",
                )
            )
        channel = channels.get(row.channel)
        gone = await _cause_gone(session, row)
        calendar = options.calendar or await load_calendar(session)
        built = await build_context(
            session, row, config=options.context, clock=clock, calendar=calendar
        )
        a = built.assignment
        is_reminder = row.kind in LADDER_STEPS and row.assignment_id is not None
        if gone is None and is_reminder and (a is None or not a.is_active):
            gone = f"assignment is {a.state if a else 'deleted'}; reminder no longer needed"
        if gone is not None:
            row.status = NotificationStatus.CANCELLED.value
            row.last_error = gone
            row.next_attempt_at = None
            session.add(
                DeliveryAttempt(
                    notification_id=row.id,
                    channel=row.channel,
                    started_at=now,
                    finished_at=now,
                    outcome=AttemptOutcome.SKIPPED.value,
                    error=gone,
                    worker=options.worker,
                )
            )
            log.info("notification %s cancelled: %s", row.id, gone)
            return DeliveryResult(row.id, Outcome.CANCELLED, error=gone)
        try:
            rendered = await renderer.render(
                built.template_step, row.channel, row.locale, built.context
            )
        except TemplateError as exc:
            error = f"template {built.template_step}.{row.channel}: {exc}"
            session.add(
                DeliveryAttempt(
                    notification_id=row.id,
                    channel=channel.kind,
                    started_at=now,
                    finished_at=now,
                    outcome=AttemptOutcome.TRANSIENT.value,
                    error=error,
                    worker=options.worker,
                )
            )
            return await _fail_or_retry(
                session,
                row,
                now=now,
                error=error,
                permanent=False,
                retry_after=None,
                options=options,
            )
        row.subject = rendered.subject
        row.body_text = rendered.text
        row.body_html = rendered.html
        root = await _thread_root(session, row) if row.channel == EMAIL else None
        hook = await session.get(GroupWebhook, row.webhook_id) if row.webhook_id else None
        attempt = DeliveryAttempt(
            notification_id=row.id,
            channel=channel.kind,
            started_at=now,
            outcome=IN_FLIGHT,
            worker=options.worker,
        )
        session.add(attempt)
        await session.flush()
        message = OutgoingMessage(
            notification_id=row.id,
            kind=row.kind,
            channel=row.channel,
            address=row.address,
            text=rendered.text,
            subject=rendered.subject,
            html=rendered.html,
            locale=row.locale,
            recipient_name=built.context.recipient_name,
            assignment_id=row.assignment_id,
            buttons=built.buttons,
            payload=dict(row.payload or {}),
            in_reply_to=root,
            references=(root,) if root else (),
            webhook_id=row.webhook_id,
            webhook_url=hook.url if hook else None,
            webhook_secret=hook.secret if hook else None,
        )
        return _Claim(message=message, attempt_id=attempt.id, channel_kind=channel.kind)


async def _record(
    sessions: async_sessionmaker[AsyncSession],
    claim: _Claim,
    *,
    result: SendResult | None,
    error: str | None,
    permanent: bool,
    retry_after: float | None,
    clock: Clock,
    options: DeliveryOptions,
) -> DeliveryResult:
    """Write the attempt's result and move the row on (sent, retry, failed + fallback)."""
    nid = claim.message.notification_id
    async with sessions() as session, session.begin():
        row = await session.scalar(
            select(Notification).where(Notification.id == nid).with_for_update()
        )
        attempt = await session.get(DeliveryAttempt, claim.attempt_id)
        now = clock.now()
        # Still ours unless the lease ran out and another worker wrote this attempt off.
        ours = attempt is not None and attempt.outcome == IN_FLIGHT
        if attempt is not None:
            attempt.finished_at = now
            if result is not None:
                attempt.outcome = AttemptOutcome.SENT.value
                attempt.provider_message_id = result.provider_message_id
                attempt.error = result.note
            else:
                attempt.outcome = (
                    AttemptOutcome.PERMANENT.value if permanent else AttemptOutcome.TRANSIENT.value
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
            row.status = NotificationStatus.SENT.value
            row.sent_at = now
            row.next_attempt_at = None
            row.provider_message_id = result.provider_message_id
            row.chat_id = result.chat_id
            row.chat_message_id = result.chat_message_id
            row.last_error = result.note
            log.info("notification %s sent via %s", nid, claim.channel_kind)
            return DeliveryResult(nid, Outcome.SENT)
        return await _fail_or_retry(
            session,
            row,
            now=now,
            error=error or "unknown error",
            permanent=permanent,
            retry_after=retry_after,
            options=options,
        )


async def _release(
    sessions: async_sessionmaker[AsyncSession], claim: _Claim, *, clock: Clock, wait: float
) -> DeliveryResult:
    """Give a claimed row back unsent (pending again after ``wait`` s); no try was made."""
    nid = claim.message.notification_id
    retry_at = clock.now() + timedelta(seconds=wait)
    async with sessions() as session, session.begin():
        attempt = await session.get(DeliveryAttempt, claim.attempt_id)
        if attempt is not None and attempt.outcome == IN_FLIGHT:
            await session.delete(attempt)
            await session.execute(
                update(Notification)
                .where(Notification.id == nid, Notification.status == SENDING)
                .values(status=PENDING, next_attempt_at=retry_at)
            )
    return DeliveryResult(nid, Outcome.DEFERRED, retry_at=retry_at)


async def deliver(
    sessions: async_sessionmaker[AsyncSession],
    notification_id: int,
    *,
    channels: ChannelRegistry,
    renderer: Renderer,
    clock: Clock,
    limiter: Limiter,
    options: DeliveryOptions | None = None,
) -> DeliveryResult:
    """Deliver one outbox row if it is due; safe to call twice or from several workers."""
    options = options or DeliveryOptions()
    async with sessions() as session:
        row = await session.get(Notification, notification_id)
        if row is None:
            return DeliveryResult(notification_id, Outcome.MISSING)
        blocked = _readiness(row, clock.now())
        if blocked is not None:
            return blocked
        channel = channels.get(row.channel)
        rates = channel.rates(_probe(row)) if channel.kind == row.channel else ()
    wait = await limiter.acquire(rates, max_wait=options.max_wait_seconds)
    if wait > 0:
        retry_at = clock.now() + timedelta(seconds=wait)
        async with sessions() as session, session.begin():
            await session.execute(
                update(Notification)
                .where(Notification.id == notification_id, Notification.status == PENDING)
                .values(next_attempt_at=retry_at)
            )
        return DeliveryResult(notification_id, Outcome.DEFERRED, retry_at=retry_at)

    claimed = await _claim(
        sessions,
        notification_id,
        channels=channels,
        renderer=renderer,
        clock=clock,
        options=options,
    )
    if isinstance(claimed, DeliveryResult):
        return claimed

    channel = channels.get(claimed.message.channel)
    # Another worker may have hit a 429 since our slot was granted: hold the send.
    paused = await limiter.paused_for(rates)
    if paused > 0:
        return await _release(sessions, claimed, clock=clock, wait=paused)
    result: SendResult | None = None
    error: str | None = None
    permanent = False
    retry_after: float | None = None
    try:
        result = await channel.send(claimed.message)
    except RateLimited as exc:
        await limiter.pause(exc.pause_key, exc.retry_after)
        error, retry_after = str(exc), exc.retry_after
    except TransientError as exc:
        error = str(exc)
    except PermanentError as exc:
        error, permanent = str(exc), True
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        # A bug or an unmapped library error: retry on the schedule, never crash the worker.
        # Only the type is kept: the message of an unknown error may carry a secret.
        log.error(
            "notification %s: unexpected %s while sending", notification_id, type(exc).__name__
        )
        error = f"unexpected error: {type(exc).__name__}"
    return await _record(
        sessions,
        claimed,
        result=result,
        error=error,
        permanent=permanent,
        retry_after=retry_after,
        clock=clock,
        options=options,
    )


async def due_ids(
    sessions: async_sessionmaker[AsyncSession],
    *,
    now: datetime,
    after_id: int = 0,
    limit: int = 500,
) -> list[int]:
    """Ids of rows to deliver now, in id order, after ``after_id``."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Notification.id)
            .where(due_clause(now), Notification.id > after_id)
            .order_by(Notification.id)
            .limit(limit)
        )
        return list(rows.all())


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    channels: ChannelRegistry,
    renderer: Renderer,
    clock: Clock,
    limiter: Limiter,
    options: DeliveryOptions | None = None,
    concurrency: int = 10,
    batch: int = 500,
    stop: asyncio.Event | None = None,
) -> Counter[str]:
    """Deliver every row due now (fallback rows made on the way too); counts by outcome."""
    options = options or DeliveryOptions()
    if options.calendar is None:
        async with sessions() as session:
            calendar = await load_calendar(session)
        options = replace(options, calendar=calendar)
    counts: Counter[str] = Counter()
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(nid: int) -> None:
        async with gate:
            if stop is not None and stop.is_set():
                return
            try:
                res = await deliver(
                    sessions,
                    nid,
                    channels=channels,
                    renderer=renderer,
                    clock=clock,
                    limiter=limiter,
                    options=options,
                )
            except Exception as exc:  # a database hiccup on one row must not stop the rest
                log.error("notification %s: delivery error %s", nid, type(exc).__name__)
                counts["error"] += 1
                return
            counts[res.outcome.value] += 1

    last = 0
    while stop is None or not stop.is_set():
        ids = await due_ids(sessions, now=clock.now(), after_id=last, limit=batch)
        if not ids:
            break
        await asyncio.gather(*(one(nid) for nid in ids))
        last = ids[-1]
    return counts
