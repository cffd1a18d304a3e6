"""Drive the real dispatcher against the fake Bot API: deliver reminders, feed user updates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import BotConfig, create_bot, create_dispatcher
from bot.dispatcher import filer_of, handle_update
from models import Assignment, Notification, NotificationStatus, Person
from notifier.channels.base import ChannelRegistry
from notifier.channels.telegram import TelegramChannel
from notifier.delivery import Deliverer, DeliveryOptions
from notifier.ratelimit import MemoryLimiter
from notifier.templating import Renderer
from supervision import outbox
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from testing import SHANGHAI
from testing.fakes.telegram import FakeTelegram, SentMessage


@dataclass
class Harness:
    """The fake server, a real Bot pointed at it, and the dispatcher under test."""

    fake: FakeTelegram
    bot: Bot
    dp: Dispatcher
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock
    config: BotConfig
    #: the notifier's channel to the fake, one per harness as a worker holds one (each
    #: channel's HTTP session builds an SSL context: costly to make per delivery)
    channel: TelegramChannel

    async def feed(self, update: dict[str, Any]) -> None:
        """Hand one user update to the dispatcher, as polling or the webhook would."""
        await handle_update(
            self.dp, self.bot, Update.model_validate(update, context={"bot": self.bot})
        )

    async def remind(
        self,
        person: Person,
        assignment: Assignment,
        step: str = "remind",
        payload: dict[str, Any] | None = None,
    ) -> SentMessage:
        """Queue ``step`` for ``person`` and deliver it through the notifier's Telegram channel."""
        assert person.telegram_chat_id is not None
        async with self.sessions() as session, session.begin():
            fresh = await session.get_one(Person, person.id)
            [row_id] = await outbox.notify_person(
                session,
                person=fresh,
                kind=step,
                key=f"a{assignment.id}:{step}:{len(self.fake.sent)}",
                channels=("chat",),
                not_before=self.clock.now(),
                now=self.clock.now(),
                assignment_id=assignment.id,
                item_id=assignment.item_id,
                payload=payload or {"step": step, "roles": ["owner"]},
            )
        return await self.deliver(person, row_id)

    async def deliver(self, person: Person, row_id: int) -> SentMessage:
        """Deliver one outbox row through the notifier's Telegram channel; the message sent."""
        assert person.telegram_chat_id is not None
        result = await Deliverer(
            self.sessions,
            channels=ChannelRegistry([self.channel]),
            renderer=Renderer(),
            clock=self.clock,
            limiter=MemoryLimiter(self.clock),
            options=DeliveryOptions(calendar=WorkCalendar(), worker="test"),
        ).deliver(row_id)
        async with self.sessions() as session:
            row = await session.get_one(Notification, row_id)
        assert row.status == NotificationStatus.SENT.value, (result, row.last_error)
        sent = self.fake.sent_to(person.telegram_chat_id)[-1]
        assert (row.chat_id, row.chat_message_id) == (sent.chat_id, sent.message_id)
        return sent

    def last_text(self, chat_id: int) -> str:
        """The last message the bot sent to a chat."""
        return self.fake.sent_to(chat_id)[-1].text

    def texts(self, chat_id: int) -> list[str]:
        """Everything the bot sent to a chat."""
        return [m.text for m in self.fake.sent_to(chat_id)]

    def answers(self) -> list[str]:
        """The texts of answered button presses."""
        return [str(a.get("text", "")) for a in self.fake.answers]


@asynccontextmanager
async def harness(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    storage: BaseStorage | None = None,
) -> AsyncIterator[Harness]:
    """Start the fake server (no flood limits) and a dispatcher on ``sessions``."""
    fake = FakeTelegram(global_rate=None, per_chat_rate=None)
    await fake.start()
    config = BotConfig(
        token=fake.token, api_base=fake.base_url, username="duban_test_bot", tz=SHANGHAI
    )
    bot = create_bot(config)
    dp = create_dispatcher(sessions=sessions, config=config, clock=clock, storage=storage)
    channel = TelegramChannel(fake.token, api_base=fake.base_url)
    try:
        yield Harness(fake, bot, dp, sessions, clock, config, channel)
    finally:
        await filer_of(dp).close()
        await dp.storage.close()
        # aiogram waits 0.25 s after closing each HTTP session (for TLS connections to
        # close): the two sessions wait together, not one after the other.
        await asyncio.gather(channel.close(), bot.session.close())
        await fake.stop()
