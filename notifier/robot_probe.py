"""A group robot's test message (测试消息): sent through the robot's real channel, its answer read.

The web page, the API and the CLI all call `send_test`; it reads the robot, posts outside
any transaction (a slow robot holds no lock), then audits the answer
(`supervision.robots.record_test`). Imports `notifier.channels` and `supervision/` only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Person
from notifier.channels.base import OutgoingMessage, SendError
from notifier.channels.webhooks import ROBOT_CHANNELS
from supervision.audit import Actor
from supervision.clock import Clock
from supervision.labels import Sentence, say
from supervision.robots import get_robot, opened, record_test
from supervision.sealing import Sealer

__all__ = ["ProbeOutcome", "send_test"]

#: a test waits this long for the robot before it calls it unreachable
TEST_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """What happened: whether the robot took the message, and its answer as shown."""

    accepted: bool
    reached: bool
    answer: str  # ``HTTP 200, errcode 0, errmsg ok`` or why no answer came

    def said(self, locale: str | None) -> str:
        """The outcome as a sentence in ``locale``."""
        if not self.reached:
            return say(Sentence.ROBOT_UNREACHABLE, locale, answer=self.answer)
        sentence = Sentence.ROBOT_ACCEPTED if self.accepted else Sentence.ROBOT_REFUSED
        return say(sentence, locale, answer=self.answer)


async def send_test(
    sessions: async_sessionmaker[AsyncSession],
    *,
    robot_id: int,
    actor_id: int | None,
    clock: Clock,
    sealer: Sealer,
    office: str,
    locale: str = "zh",
) -> ProbeOutcome:
    """Send the test message to robot ``robot_id`` and audit its answer (NotFound: no robot)."""
    async with sessions() as session:
        hook = await get_robot(session, robot_id)
        kind, name = hook.kind, hook.name
        url, secret = opened(hook, sealer)
    message = OutgoingMessage(
        notification_id=0,
        kind="test",
        channel=kind,
        address=None,
        text=say(Sentence.ROBOT_TEST_TEXT, locale, office=office, name=name),
        locale=locale,
        webhook_id=robot_id,
        webhook_url=url,
        webhook_secret=secret,
    )
    channel = ROBOT_CHANNELS[kind](clock=clock, timeout=TEST_TIMEOUT_SECONDS)
    try:
        answer = await channel.post(message)
        outcome = ProbeOutcome(answer.accepted, True, answer.shown())
    except SendError as exc:
        outcome = ProbeOutcome(False, False, str(exc))
    finally:
        await channel.close()
    async with sessions() as session, session.begin():
        hook = await get_robot(session, robot_id)
        actor = await session.get(Person, actor_id) if actor_id is not None else None
        record_test(
            session,
            hook=hook,
            accepted=outcome.accepted,
            answer=outcome.answer,
            actor=Actor.of(actor) if actor is not None else Actor.system("cli"),
            clock=clock,
        )
    return outcome
