"""The update middleware: log before handling, one DB transaction per update, who is acting
(``session``, ``person`` and, for a bound person, the `bot.common.Turn` holding both).

It wraps every router but the reply filer's (`bot.replies`, which keeps its updates in the
filing batch's transaction): an outer middleware of each event type there, so an update
that router passes on gets here before any filter reads who is acting.

Domain errors become a short answer and roll back; any other error is logged with the
update id, the person gets an apology, and the stored update stays for a retry.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject, Update, User
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import joinedload

from bot import updates
from bot.common import Turn
from bot.texts import Sentence, say, told
from models import Person
from supervision.access import NotPermitted
from supervision.clock import Clock
from supervision.errors import DomainError, InvalidTransition, NotFound

log = logging.getLogger("duban.bot")

CALLBACK_ANSWER_LIMIT = 200


def _locale(person: Person | None, user: User | None) -> str:
    if person is not None:
        return person.locale
    return (user.language_code or "zh") if user else "zh"


def domain_answer(exc: DomainError, locale: str, *, button: bool) -> str:
    """What to tell a person whose request broke a rule."""
    if button and isinstance(exc, NotPermitted):
        return say(locale, Sentence.NOT_ALLOWED)
    if button and isinstance(exc, NotFound | InvalidTransition):
        return say(locale, Sentence.EXPIRED)
    return told(locale, exc)


async def _answer(update: Update, text: str) -> None:
    """Tell the person, on whatever they sent (a button press or a message)."""
    if update.callback_query is not None:
        query: CallbackQuery = update.callback_query
        # Button answers are plain text; ``say`` escaped the values for HTML messages.
        await query.answer(html.unescape(text)[:CALLBACK_ANSWER_LIMIT], show_alert=True)
        return
    message: Message | None = update.message or update.edited_message
    if message is not None:
        await message.answer(text)


class UpdateMiddleware(BaseMiddleware):
    """Store, claim, handle in one transaction, and mark done — or failed-but-retryable."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        """Run ``handler`` for one update under the update log's rules."""
        update = data["event_update"]  # ``event`` is its message, button press, ...
        assert isinstance(update, Update)
        if not await updates.store(self.sessions, update, self.clock):
            log.info("update %s was already handled; skipped", update.update_id)
            return None
        user: User | None = data.get("event_from_user")
        person: Person | None = None
        # Read before the transaction ends: a rollback expires the person's attributes.
        locale = _locale(None, user)
        try:
            async with self.sessions() as session, session.begin():
                if not await updates.claim(session, update.update_id, self.clock):
                    return None
                if user is not None:
                    found = await session.scalars(
                        select(Person)
                        .options(joinedload(Person.role_links))
                        .where(Person.telegram_user_id == user.id, Person.active)
                    )
                    person = found.unique().one_or_none()
                locale = _locale(person, user)
                data["session"] = session
                data["person"] = person
                state = data.get("state")
                if person is not None and isinstance(state, FSMContext):
                    data["turn"] = Turn(session, person, state, data["clock"], data["config"])
                result = await handler(event, data)
            return result
        except DomainError as exc:
            # The transaction rolled back, so the broken rule changed nothing; say why.
            await updates.done(self.sessions, update.update_id, self.clock)
            button = update.callback_query is not None
            await _answer(update, domain_answer(exc, locale, button=button))
            return None
        except Exception as exc:
            log.exception("update %s failed: %s", update.update_id, exc.__class__.__name__)
            await updates.fail(
                self.sessions, update.update_id, f"{exc.__class__.__name__}: {exc}", self.clock
            )
            try:
                await _answer(update, say(locale, Sentence.APOLOGY))
            except Exception as answer_exc:  # the apology is best effort; the update is kept
                log.warning(
                    "update %s: apology not sent: %s",
                    update.update_id,
                    answer_exc.__class__.__name__,
                )
            return None
