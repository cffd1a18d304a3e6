"""Recording what was sent survives a lost database connection (PostgreSQL): the recording is
tried again on a new connection instead of leaving the rows to go out again after the lease;
and the arq worker's concurrent deliveries are claimed and recorded together."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from models import DeliveryAttempt, Notification
from notifier.channels.base import ChannelRegistry, OutgoingMessage, SendResult
from notifier.channels.email import EmailChannel
from notifier.channels.log import LogChannel
from notifier.delivery import Deliverer, Outcome
from notifier.templating import Renderer
from testing.notifier_support import SmtpServer, limiter_for, options, registry, reminder


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


class Trap:
    """Arms a fault for the next recording transaction, once the channel has sent."""

    def __init__(self) -> None:
        self.armed = False
        self.sprung = 0


def trapped_sessions(
    engine: AsyncEngine, trap: Trap, where: str
) -> async_sessionmaker[AsyncSession]:
    """Sessions whose first transaction after a send loses its connection: at its start
    (``where="begin"``: the server ends the session, nothing of it is written) or right after
    its commit (``"commit"``: written, but the answer never reaches the client)."""

    class TrappedSession(Session):
        pass

    def spring() -> bool:
        if not trap.armed:
            return False
        trap.armed = False
        trap.sprung += 1
        return True

    if where == "begin":

        @event.listens_for(TrappedSession, "after_begin")
        def _begin(session: Session, transaction: object, connection) -> None:
            if spring():
                connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    else:

        @event.listens_for(TrappedSession, "after_commit")
        def _commit(session: Session) -> None:
            if spring():
                raise ConnectionResetError("connection reset by peer")

    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrappedSession)


class ArmingChannel(EmailChannel):
    """The e-mail channel; each send arms the trap."""

    def __init__(self, trap: Trap, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.trap = trap

    async def send(self, message: OutgoingMessage) -> SendResult:
        result = await super().send(message)
        self.trap.armed = True
        return result


def channels_with(trap: Trap, smtp: SmtpServer, clock) -> ChannelRegistry:
    log = LogChannel()
    email = ArmingChannel(
        trap, smtp.config(), mail_from="督查室 <duban@example.gov.cn>", clock=clock
    )
    return ChannelRegistry([log, email], substitute=log)


def deliverer(sessions, channels, clock) -> Deliverer:
    d = Deliverer(
        sessions,
        channels=channels,
        renderer=Renderer(),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    )
    d.record_retries = (0.0, 0.0)
    return d


async def state(sessions) -> tuple[list[str], list[str]]:
    async with sessions() as s:
        rows = (await s.scalars(select(Notification.status).order_by(Notification.id))).all()
        outcomes = (
            await s.scalars(select(DeliveryAttempt.outcome).order_by(DeliveryAttempt.id))
        ).all()
    return [str(r) for r in rows], [str(o) for o in outcomes]


@pytest.mark.slow
@pytest.mark.parametrize("where", ["begin", "commit"])
async def test_a_lost_connection_while_recording_keeps_what_was_sent(pg_engine, clock, smtp, where):
    """The message went out; the connection that records it is lost (before anything was
    written, or after the commit). The recording is tried again, the row is sent once, and
    its attempt is recorded once as sent: nothing is left to go out again after the lease."""
    trap = Trap()
    sessions = trapped_sessions(pg_engine, trap, where)
    await reminder(sessions, clock, channels=("email",), email="wang@example.gov.cn")
    channels = channels_with(trap, smtp, clock)
    try:
        counts = await deliverer(sessions, channels, clock).deliver_due()
    finally:
        await channels.close()
    assert trap.sprung == 1
    assert counts == {"sent": 1}
    assert len(smtp.sink.messages) == 1
    assert await state(sessions) == (["sent"], ["sent"])


async def test_a_job_claims_and_records_its_rows_together(pg_engine, clock, smtp):
    """An arq job delivers a batch of rows: one claim and one recording for all of them, and
    each row once, even when two jobs for the same rows run at once."""
    statements: list[str] = []
    sessions = async_sessionmaker(pg_engine, expire_on_commit=False)
    ids = []
    for n in range(6):
        case = await reminder(
            sessions, clock, channels=("email",), email=f"owner{n}@example.gov.cn", chat_id=None
        )
        ids.extend(case.ids)
    channels = registry(mail=smtp.config(), clock=clock)

    def count(conn, cursor, statement: str, *args) -> None:
        statements.append(statement)

    event.listen(pg_engine.sync_engine, "before_cursor_execute", count)
    d = deliverer(sessions, channels, clock)
    try:
        results = await d.deliver_rows([*ids[:3], ids[0]])
        claims = [s for s in statements if s.lstrip().startswith("WITH picked")]
        records = [s for s in statements if "FOR UPDATE" in s and "picked" not in s]
        assert (len(claims), len(records)) == (1, 1), "one claim and one recording per job"
        twice = await asyncio.gather(d.deliver_rows(ids[3:]), d.deliver_rows(ids[3:]))
    finally:
        event.remove(pg_engine.sync_engine, "before_cursor_execute", count)
        await channels.close()
    assert sorted(r.notification_id for r in results) == sorted(ids[:3])
    assert sorted(r.notification_id for r in [*twice[0], *twice[1]]) == sorted(ids[3:])
    assert {r.outcome for r in [*results, *twice[0], *twice[1]]} == {Outcome.SENT}
    assert await d.deliver_rows(ids) == []  # sent already: nothing due, nothing claimed
    assert len(smtp.sink.messages) == 6
    assert await state(sessions) == (["sent"] * 6, ["sent"] * 6)
