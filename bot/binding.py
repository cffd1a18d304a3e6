"""Binding a chat to a person with ``/start <token>``, and the answer to strangers."""

from __future__ import annotations

from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message, User
from sqlalchemy.ext.asyncio import AsyncSession

from bot.common import my_items_text
from bot.config import BotConfig
from bot.filters import not_private, unbound
from bot.routing import Routes
from bot.texts import Sentence, lang, say
from models import Person
from supervision import labels
from supervision.clock import Clock
from supervision.errors import DomainError
from supervision.invites import InviteExpired, InviteUsed, bind_by_token

groups = Routes("groups")
binding = Routes("binding")
gate = Routes("gate")


def for_stranger(user: User | None, key: Sentence, config: BotConfig) -> str:
    """Chinese, plus English when the user's Telegram speaks English."""
    zh = say("zh", key, office=config.office_name)
    if user is not None and lang(user.language_code) == "en":
        return zh + "\n\n" + say("en", key, office=labels.say(Sentence.OFFICE, "en"))
    return zh


@groups.message(not_private)
async def group_message(message: Message) -> None:
    """Group chats get one line: the bot works in private chats only."""
    await message.answer(
        say("zh", Sentence.PRIVATE_ONLY) + " / " + say("en", Sentence.PRIVATE_ONLY)
    )


@groups.callback_query(not_private)
async def group_button(query: CallbackQuery) -> None:
    """Buttons in groups do nothing."""
    await query.answer(say("zh", Sentence.PRIVATE_ONLY), show_alert=True)


@binding.message(CommandStart(deep_link=True))
async def start_with_token(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    clock: Clock,
    config: BotConfig,
) -> None:
    """Spend an invite token: bind this user and chat, greet by name, list open items."""
    user = message.from_user
    assert user is not None
    try:
        person = await bind_by_token(
            session,
            token=(command.args or "").strip(),
            telegram_user_id=user.id,
            chat_id=message.chat.id,
            username=user.username,
            clock=clock,
        )
    except InviteUsed:
        await message.answer(for_stranger(user, Sentence.INVITE_USED, config))
        return
    except InviteExpired:
        await message.answer(for_stranger(user, Sentence.INVITE_EXPIRED, config))
        return
    except DomainError:
        await message.answer(for_stranger(user, Sentence.INVITE_UNKNOWN, config))
        return
    greeting = say(person.locale, Sentence.GREET, name=person.name)
    items = await my_items_text(session, person, clock=clock, config=config)
    await message.answer(greeting + "\n\n" + items)


@binding.message(CommandStart(deep_link=False))
async def start(
    message: Message,
    session: AsyncSession,
    person: Person | None,
    clock: Clock,
    config: BotConfig,
) -> None:
    """``/start`` without a token: greet a bound person, or say how to get an invite."""
    if person is None:
        await message.answer(for_stranger(message.from_user, Sentence.HOW_TO_BIND, config))
        return
    greeting = say(person.locale, Sentence.ALREADY_BOUND, name=person.name)
    items = await my_items_text(session, person, clock=clock, config=config)
    await message.answer(greeting + "\n\n" + items)


@gate.message(unbound)
async def stranger_message(message: Message, config: BotConfig) -> None:
    """Anyone not bound is told how to get an invite; no item data is shown."""
    await message.answer(for_stranger(message.from_user, Sentence.HOW_TO_BIND, config))


@gate.edited_message(unbound)
async def stranger_edit(message: Message) -> None:
    """Edits from strangers are ignored."""


@gate.callback_query(unbound)
async def stranger_button(query: CallbackQuery, config: BotConfig) -> None:
    """Buttons pressed by strangers change nothing."""
    await query.answer(say(query.from_user.language_code, Sentence.NOT_ALLOWED), show_alert=True)
