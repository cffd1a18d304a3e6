"""``/settings``: a person orders the channels they are reached on (接收渠道) with buttons.

Every press changes the pressing person's own list only (`supervision.channel_prefs.set_prefs`
checks it again) and is read against their list as it is now, so an old or forged button
cannot do more than the same press on a fresh message.
"""

from __future__ import annotations

from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import ChannelPref
from bot.common import quietly
from bot.routing import Routes
from bot.texts import say
from models import Channel, Person
from supervision.channel_prefs import ADDRESS_OF, PERSONAL, prefs_of, set_prefs
from supervision.clock import Clock
from supervision.errors import ValidationFailed
from supervision.labels import channel_prefs_word, label, lang_of

router = Routes("settings")

UP, OUT, ADD, RESET = "u", "x", "a", "r"


def settings_text(person: Person) -> str:
    """The person's channels in order (or the default), and how the order is used."""
    loc = person.locale
    en = lang_of(loc) == "en"
    prefs = prefs_of(person)
    lines = [channel_prefs_word("title", loc) + (":" if en else "：")]
    if not prefs:
        lines.append(channel_prefs_word("default", loc))
    unbound = channel_prefs_word("unbound", loc)
    for n, channel in enumerate(prefs, start=1):
        note = "" if ADDRESS_OF[channel](person) else (f" ({unbound})" if en else f"（{unbound}）")
        lines.append(f"{n}. {label(channel, loc, alone=True)}{note}")
    lines += ["", channel_prefs_word("order", loc), say(loc, "settings_hint")]
    return "\n".join(lines)


def settings_keyboard(person: Person) -> InlineKeyboardMarkup:
    """⬆ / ✕ for each listed channel, ＋ for each other one, and back to the default."""
    loc = person.locale
    prefs = prefs_of(person)
    rows: list[list[InlineKeyboardButton]] = []

    def button(text: str, act: str, channel: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=text, callback_data=ChannelPref(act=act, ch=channel).pack()
        )

    for n, channel in enumerate(prefs):
        name = label(channel, loc, alone=True)
        row = [button(f"⬆ {name}", UP, channel.value)] if n else []
        rows.append([*row, button(f"✕ {name}", OUT, channel.value)])
    rows += [
        [button(f"＋ {label(c, loc, alone=True)}", ADD, c.value)]
        for c in PERSONAL
        if c not in prefs
    ]
    if prefs:
        rows.append([button(channel_prefs_word("reset", loc), RESET, "")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def changed(prefs: tuple[Channel, ...], act: str, channel: str) -> list[str]:
    """The list after one press; a press that names no listed channel is refused."""
    names = [c.value for c in prefs]
    if act == RESET:
        return []
    if act == ADD and channel not in names:
        return [*names, channel]  # set_prefs checks that it is a channel for a person
    if act in (UP, OUT) and channel in names:
        i = names.index(channel)
        if act == OUT:
            return names[:i] + names[i + 1 :]
        if i > 0:
            names[i - 1], names[i] = names[i], names[i - 1]
        return names
    raise ValidationFailed(f"channels: {channel!r} cannot be changed that way")


@router.message(Command("settings"))
async def settings_command(message: Message, person: Person) -> None:
    """Show the person's channels with the buttons to change them."""
    await message.answer(settings_text(person), reply_markup=settings_keyboard(person))


@router.callback_query(ChannelPref.filter())
async def settings_button(
    query: CallbackQuery,
    callback_data: ChannelPref,
    session: AsyncSession,
    person: Person,
    clock: Clock,
) -> None:
    """Apply one press to the presser's own list and show the result on the same message."""
    wanted = changed(prefs_of(person), callback_data.act, callback_data.ch)
    await set_prefs(session, person_id=person.id, channels=wanted, actor=person, clock=clock)
    await quietly(query.answer(channel_prefs_word("saved", person.locale)))
    if isinstance(query.message, Message):
        await quietly(
            query.message.edit_text(settings_text(person), reply_markup=settings_keyboard(person))
        )
