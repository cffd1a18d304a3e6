"""Helpers shared by the bot's routers: what a message carries, lights, item lists."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import BotConfig
from bot.texts import Sentence, days_phrase, light_label, say
from models import Assignment, Item, Notification, Person
from supervision.access import Action, scope_for
from supervision.calendar import WorkCalendar
from supervision.calendar_store import load_calendar
from supervision.clock import Clock, local_today
from supervision.deadlines import days_left
from supervision.light import Light, assignment_light
from supervision.reports import AttachmentIn

log = logging.getLogger("duban.bot")


@dataclass(frozen=True, slots=True)
class Turn:
    """What handling one bound person's update works with: its transaction, the person, their
    dialog, the clock and the configuration. The update middleware provides it by aiogram's
    DI (a handler takes ``turn: Turn``), so helpers take one object instead of five."""

    session: AsyncSession
    person: Person
    state: FSMContext
    clock: Clock
    config: BotConfig


@dataclass(frozen=True, slots=True)
class Content:
    """The text and files of one message (captions count as text)."""

    text: str
    attachments: tuple[AttachmentIn, ...]

    @property
    def empty(self) -> bool:
        """True when there is neither text nor a file."""
        return not self.text.strip() and not self.attachments

    def dump(self) -> dict[str, Any]:
        """A JSON-safe form for the FSM storage."""
        return {
            "text": self.text,
            "attachments": [
                {
                    "file_id": a.file_id,
                    "file_unique_id": a.file_unique_id,
                    "file_name": a.file_name,
                    "mime_type": a.mime_type,
                    "size": a.size,
                }
                for a in self.attachments
            ],
        }

    @classmethod
    def load(cls, data: dict[str, Any]) -> Content:
        """Back from :meth:`dump`."""
        return cls(
            text=str(data.get("text", "")),
            attachments=tuple(AttachmentIn(**a) for a in data.get("attachments", [])),
        )


def content_of(message: Message) -> Content:
    """Text (or caption) and the photo or document of ``message``."""
    files: list[AttachmentIn] = []
    if message.document is not None:
        d = message.document
        files.append(
            AttachmentIn(
                file_id=d.file_id,
                file_unique_id=d.file_unique_id,
                file_name=d.file_name,
                mime_type=d.mime_type,
                size=d.file_size,
            )
        )
    if message.photo:
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        files.append(
            AttachmentIn(
                file_id=largest.file_id,
                file_unique_id=largest.file_unique_id,
                file_name=None,
                mime_type="image/jpeg",
                size=largest.file_size,
            )
        )
    return Content(text=message.text or message.caption or "", attachments=tuple(files))


@dataclass(frozen=True, slots=True)
class Replied:
    """The outbox message a chat message replies to, with its assignment."""

    kind: str
    payload: dict[str, Any]
    assignment: Assignment


async def replied_message(session: AsyncSession, message: Message) -> Replied | None:
    """What ``message`` replies to, if it replies to something the notifier sent."""
    replied = message.reply_to_message
    if replied is None:
        return None
    row = (
        await session.execute(
            select(Notification.kind, Notification.payload, Assignment)
            .join(Assignment, Notification.assignment_id == Assignment.id)
            .where(
                Notification.chat_id == message.chat.id,
                Notification.chat_message_id == replied.message_id,
            )
        )
    ).first()
    if row is None:
        return None
    return Replied(kind=row[0], payload=dict(row[1] or {}), assignment=row[2])


@dataclass(frozen=True, slots=True)
class Status:
    """An assignment as the bot shows it."""

    assignment: Assignment
    item: Item
    light: Light
    days_left: int


async def status_of(
    session: AsyncSession,
    assignments: Sequence[Assignment],
    *,
    clock: Clock,
    config: BotConfig,
    calendar: WorkCalendar | None = None,
    items: Mapping[int, Item] | None = None,
) -> list[Status]:
    """Light and working days left for each assignment, on today's office date.

    ``items`` spares the query when the caller holds the assignments' items (by id).
    """
    if not assignments:
        return []
    calendar = calendar or await load_calendar(session)
    today = local_today(clock, config.tz)
    wanted = {a.item_id for a in assignments}
    if items is not None:
        assert wanted <= items.keys()
    elif len(wanted) == 1:  # the common case (a confirmation): a plain primary-key load
        [only] = wanted
        items = {only: await session.get_one(Item, only)}
    else:
        items = {i.id: i for i in await session.scalars(select(Item).where(Item.id.in_(wanted)))}
    return [
        status_row(a, items[a.item_id], today=today, calendar=calendar, config=config)
        for a in assignments
    ]


def status_row(
    assignment: Assignment,
    item: Item,
    *,
    today: date,
    calendar: WorkCalendar,
    config: BotConfig,
) -> Status:
    """One assignment's light and working days left on the office date ``today`` (no I/O)."""
    light = assignment_light(
        assignment, received_on=item.received_on, today=today, calendar=calendar, tz=config.tz
    )
    return Status(assignment, item, light, days_left(today, assignment.due_on, calendar))


async def title_of(session: AsyncSession, assignment: Assignment) -> str:
    """The title of the assignment's item (a primary-key load, often from the identity map)."""
    return (await session.get_one(Item, assignment.item_id)).title


async def my_items_text(
    session: AsyncSession, person: Person, *, clock: Clock, config: BotConfig
) -> str:
    """The /my list: the person's worklist (`supervision.access.Scope.worklist`: their unit
    and below, and what names them) with light, deadline and days left; what they may
    neither report on nor sign off is marked as for reading only."""
    scope = await scope_for(session, person)
    assignments = (await session.scalars(scope.worklist())).all()
    rows = await status_of(session, assignments, clock=clock, config=config)
    loc = person.locale
    if not rows:
        return say(loc, Sentence.NO_OPEN)
    lines = [say(loc, Sentence.OPEN_ITEMS)]
    for row in rows:
        lines.append(
            say(
                loc,
                Sentence.ITEM_LINE,
                light=light_label(loc, row.light),
                title=row.item.title,
                due=row.assignment.due_on.isoformat(),
                days=days_phrase(loc, row.days_left),
            )
        )
        if not any(
            scope.can(action, row.assignment) for action in (Action.REPORT, Action.SIGN_OFF)
        ):
            lines.append(say(loc, Sentence.VIEW_ONLY))
    return "\n".join(lines)


async def quietly(call: Awaitable[object]) -> None:
    """Run a cosmetic Bot API call (answer a button, drop a keyboard); a refusal is only logged."""
    try:
        await call
    except TelegramAPIError as exc:
        log.info("cosmetic call refused: %s", exc.__class__.__name__)
