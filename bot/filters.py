"""Small filters the routers share."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from models import Person


def not_command(message: Message) -> bool:
    """True unless the message is a /command."""
    return not (message.text or "").startswith("/")


def private(event: Message | CallbackQuery) -> bool:
    """True for private chats (a button under a private message, or a private message)."""
    message = event.message if isinstance(event, CallbackQuery) else event
    return message is None or message.chat.type == "private"


def unbound(_: object, person: Person | None = None) -> bool:
    """True when the sender is not bound to an active person."""
    return person is None
