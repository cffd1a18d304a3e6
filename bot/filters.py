"""Small filters the routers share.

All are ``async``: aiogram runs a plain function filter (and a magic ``F`` filter) in a
worker thread for every update it is checked on, which costs more than the check.
"""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from models import Person


async def not_command(message: Message) -> bool:
    """True unless the message is a /command."""
    return not (message.text or "").startswith("/")


async def has_text(message: Message) -> bool:
    """True for a message with text (not a caption, not media alone)."""
    return message.text is not None


async def is_reply(message: Message) -> bool:
    """True for a message that replies to another one."""
    return message.reply_to_message is not None


async def in_album(message: Message) -> bool:
    """True for one message of an album (photos or files sent together)."""
    return message.media_group_id is not None


async def odd_content(message: Message) -> bool:
    """True for what cannot be filed: stickers, voice, locations and the like."""
    return (
        message.text is None and message.caption is None and not (message.document or message.photo)
    )


async def not_private(event: Message | CallbackQuery) -> bool:
    """True in groups (a message there, or a button under a group message)."""
    message = event.message if isinstance(event, CallbackQuery) else event
    return message is not None and message.chat.type != "private"


async def unbound(_: object, person: Person | None = None) -> bool:
    """True when the sender is not bound to an active person."""
    return person is None
