"""Drive the real dispatcher against the fake Bot API: send reminders, feed user updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import Update
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import BotConfig, create_bot, create_dispatcher
from models import Assignment, Notification, NotificationStatus, Person
from supervision import outbox
from supervision.clock import FixedClock
from tests.conftest import SHANGHAI
from tests.fakes.telegram import FakeTelegram, SentMessage


@dataclass
class Harness:
    """The fake server, a real Bot pointed at it, and the dispatcher under test."""

    fake: FakeTelegram
    bot: Bot
    dp: Dispatcher
    sessions: async_sessionmaker[AsyncSession]
    clock: FixedClock
    config: BotConfig

    async def feed(self, update: dict[str, Any]) -> None:
        """Hand one user update to the dispatcher, as polling or the webhook would."""
        await self.dp.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )

    async def remind(
        self,
        person: Person,
        assignment: Assignment,
        step: str = "remind",
        payload: dict[str, Any] | None = None,
    ) -> SentMessage:
        """Send a reminder like delivery does, and record its chat message on the outbox row."""
        assert person.telegram_chat_id is not None
        async with self.sessions() as session, session.begin():
            row_id = await outbox.add(
                session,
                dedupe_key=f"a{assignment.id}:{step}:p{person.id}:telegram",
                kind=step,
                channel=outbox.CHAT,
                not_before=self.clock.now(),
                recipient_id=person.id,
                address=str(person.telegram_chat_id),
                assignment_id=assignment.id,
                item_id=assignment.item_id,
                payload=payload,
            )
        sent = await self.bot.send_message(
            person.telegram_chat_id, f"【提醒】事项 {assignment.id} 即将到期"
        )
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(Notification)
                .where(Notification.id == row_id)
                .values(
                    status=NotificationStatus.SENT.value,
                    chat_id=sent.chat.id,
                    chat_message_id=sent.message_id,
                    sent_at=self.clock.now(),
                )
            )
        return self.fake.sent_to(person.telegram_chat_id)[-1]

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
    try:
        yield Harness(fake, bot, dp, sessions, clock, config)
    finally:
        await dp.storage.close()
        await bot.session.close()
        await fake.stop()
