"""The lease rule of a delivery batch: a row's send starts within the first half of its lease
(and before the job's ``send_by``) or the row is given back unsent; a batch cut off records
what it sent and gives back the rest, so nothing waits for its lease to be sent again."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import DeliveryAttempt, Notification
from notifier.channels.base import ChannelRegistry, OutgoingMessage, SendResult
from notifier.channels.log import LogChannel
from notifier.delivery import Deliverer, Outcome
from notifier.templating import Renderer
from testing.notifier_support import limiter_for, options, reminder

pytestmark = pytest.mark.dialects  # the claim differs: SKIP LOCKED, SQLite's re-check

LEASE = 8.0


class SlowChannel(LogChannel):
    """Stands in for every channel; each send moves the clock on, or waits for ``gate``."""

    def __init__(self, clock, *, takes: float = 0.0, gate: asyncio.Event | None = None) -> None:
        super().__init__()
        self.clock, self.takes, self.gate = clock, takes, gate
        self.started = asyncio.Event()

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self.count and self.gate is not None:
            self.started.set()
            await self.gate.wait()
        self.clock.advance(timedelta(seconds=self.takes))
        return await super().send(message)


def deliverer(sessions, clock, channel: SlowChannel) -> Deliverer:
    return Deliverer(
        sessions,
        channels=ChannelRegistry([channel], substitute=channel),
        renderer=Renderer(),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(lease_seconds=LEASE),
        concurrency=1,
    )


async def two_rows(sessions, clock) -> list[int]:
    case = await reminder(sessions, clock, channels=("chat",))
    first = list(case.ids)
    await reminder(sessions, clock, channels=("chat",), case=case, occurrence="2026-11-09")
    return [*first, *case.ids]


async def rows_and_attempts(sessions) -> tuple[list[tuple[str, object]], list[str]]:
    async with sessions() as s:
        rows = (
            await s.execute(
                select(Notification.status, Notification.next_attempt_at).order_by(Notification.id)
            )
        ).all()
        attempts = (await s.scalars(select(DeliveryAttempt.outcome))).all()
    return [(str(st), at) for st, at in rows], sorted(str(a) for a in attempts)


async def test_a_job_with_no_time_left_claims_nothing(sessions, clock):
    ids = await two_rows(sessions, clock)
    channel = SlowChannel(clock)
    results = await deliverer(sessions, clock, channel).deliver_rows(ids, send_by=clock.now())
    assert results == []
    assert channel.count == 0
    rows, attempts = await rows_and_attempts(sessions)
    assert [status for status, _ in rows] == ["pending", "pending"] and attempts == []


async def test_a_send_that_cannot_start_in_the_first_half_of_its_lease_is_given_back(
    sessions, clock
):
    """One send at a time, each taking 5 s of an 8 s lease: the second row's turn comes after
    the half of its lease, so it is given back, due now, with no attempt."""
    ids = await two_rows(sessions, clock)
    channel = SlowChannel(clock, takes=5)
    results = await deliverer(sessions, clock, channel).deliver_rows(ids)
    assert [(r.notification_id, r.outcome) for r in results] == [
        (ids[0], Outcome.SENT),
        (ids[1], Outcome.DEFERRED),
    ]
    assert channel.count == 1
    rows, attempts = await rows_and_attempts(sessions)
    assert rows[0][0] == "sent"
    assert rows[1][0] == "pending" and rows[1][1] == clock.now()
    assert attempts == ["sent"]


async def test_a_send_before_the_jobs_send_by_goes_out(sessions, clock):
    """The same two rows with a lease long enough: both are sent (the rule above is the
    lease's, not a limit on a batch)."""
    ids = await two_rows(sessions, clock)
    channel = SlowChannel(clock, takes=3)
    send_by = clock.now() + timedelta(seconds=LEASE / 2)
    results = await deliverer(sessions, clock, channel).deliver_rows(ids, send_by=send_by)
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]


async def test_a_cancelled_batch_records_what_was_sent_and_gives_back_the_rest(sessions, clock):
    """arq cuts a job off (its timeout) while its second send is under way: the first row is
    recorded sent, the second is pending and due now, and no attempt is left in flight."""
    ids = await two_rows(sessions, clock)
    channel = SlowChannel(clock, gate=asyncio.Event())
    job = asyncio.ensure_future(deliverer(sessions, clock, channel).deliver_rows(ids))
    await asyncio.wait_for(channel.started.wait(), timeout=30)
    job.cancel()
    await asyncio.gather(job, return_exceptions=True)
    assert job.cancelled()
    rows, attempts = await rows_and_attempts(sessions)
    assert rows == [("sent", None), ("pending", clock.now())]
    assert attempts == ["sent"]
