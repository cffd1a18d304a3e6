"""What nobody else handled: unknown commands and stale or forged buttons."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from bot.common import quietly
from bot.routing import Routes
from bot.texts import Sentence, say
from models import Person

router = Routes("fallback")


@router.message()
async def unknown(message: Message, person: Person) -> None:
    """An unknown command: list the commands."""
    await message.answer(say(person.locale, Sentence.UNKNOWN_COMMAND))


@router.callback_query()
async def stale_button(query: CallbackQuery, person: Person) -> None:
    """A button nobody handles (old, forged or from another version): it has expired."""
    await quietly(query.answer(say(person.locale, Sentence.EXPIRED), show_alert=True))
