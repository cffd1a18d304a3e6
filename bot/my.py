"""``/my`` (open items with light, deadline and days left) and ``/help``."""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.common import my_items_text
from bot.config import BotConfig
from bot.routing import Routes
from bot.texts import Sentence, say
from models import Person
from supervision.clock import Clock

router = Routes("my")


@router.message(Command("my"))
async def my_items(
    message: Message, session: AsyncSession, person: Person, clock: Clock, config: BotConfig
) -> None:
    """The person's open assignments."""
    await message.answer(await my_items_text(session, person, clock=clock, config=config))


@router.message(Command("help"))
async def help_command(message: Message, person: Person) -> None:
    """What the bot can do."""
    await message.answer(say(person.locale, Sentence.UNKNOWN_COMMAND))
