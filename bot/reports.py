"""Filing progress: replies to reminders, free messages with an item picker, ``/report``, edits."""

from __future__ import annotations

from aiogram import F
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards
from bot.callbacks import Flow, Pick
from bot.common import (
    Content,
    Status,
    Turn,
    content_of,
    quietly,
    replied_message,
    status_of,
    title_of,
)
from bot.config import BotConfig
from bot.filters import in_album, is_reply, not_command, odd_content
from bot.review import answer_request_message
from bot.routing import Routes
from bot.states import ReportFlow
from bot.texts import Sentence, light_label, say
from models import Assignment, Origin, Person, Report
from supervision.access import Action, actionable_assignments, require
from supervision.calendar_store import load_calendar
from supervision.clock import Clock
from supervision.errors import InvalidTransition, NotFound
from supervision.labels import refusal
from supervision.reports import album_report, edit_report, file_report, report_for_message

router = Routes("reports")

REQUEST_KINDS = ("review_request", "signoff_request")


async def load_assignment(
    session: AsyncSession, assignment_id: int, person: Person, action: Action = Action.REPORT
) -> Assignment:
    """The assignment if ``person`` may act on it and it is still active; else a DomainError."""
    assignment = await session.get(Assignment, assignment_id)
    if assignment is None:
        raise refusal(NotFound, Sentence.NO_SUCH_ASSIGNMENT)
    require(person, action, assignment)
    if not assignment.is_active:
        raise refusal(InvalidTransition, Sentence.ASSIGNMENT_CLOSED)
    return assignment


async def file_and_confirm(
    message: Message,
    turn: Turn,
    *,
    assignment: Assignment,
    content: Content,
    chat_id: int,
    message_id: int,
    media_group_id: str | None = None,
) -> None:
    """File ``content`` on ``assignment``; confirm with title, report number and new light.

    The later messages of an album join the album's report without a second confirmation.
    """
    session, person, clock, config = turn.session, turn.person, turn.clock, turn.config
    calendar = await load_calendar(session)
    report = await file_report(
        session,
        assignment=assignment,
        author=person,
        text=content.text,
        attachments=content.attachments,
        clock=clock,
        channel=Origin.CHAT,
        chat_id=chat_id,
        chat_message_id=message_id,
        calendar=calendar,
        media_group_id=media_group_id,
    )
    [row] = await status_of(session, [assignment], clock=clock, config=config, calendar=calendar)
    text = confirmation(person, report, message_id, row)
    if text is not None:
        await message.answer(text)


async def file_message(message: Message, turn: Turn, assignment: Assignment) -> None:
    """File what ``message`` itself carries (text, caption, files, album) on ``assignment``."""
    await file_and_confirm(
        message,
        turn,
        assignment=assignment,
        content=content_of(message),
        chat_id=message.chat.id,
        message_id=message.message_id,
        media_group_id=message.media_group_id,
    )


def confirmation(person: Person, report: Report, message_id: int, row: Status) -> str | None:
    """The answer to a filed report: item title, report number and the item's new light.

    None for a later message of an album (it joined the album's report, already confirmed).
    """
    if report.chat_message_id != message_id:
        return None
    return say(
        person.locale,
        Sentence.FILED,
        title=row.item.title,
        number=report.number,
        light=light_label(person.locale, row.light),
    )


async def offer(message: Message, turn: Turn, content: Content | None) -> None:
    """Ask which item a report is for: confirm the only one, or one button per item."""
    session, person, state = turn.session, turn.person, turn.state
    mine = await actionable_assignments(session, person)
    rows = await status_of(session, mine, clock=turn.clock, config=turn.config)
    loc = person.locale
    if not rows:
        await state.clear()
        await message.answer(say(loc, Sentence.NO_OPEN))
        return
    if content is None:
        await state.clear()
    else:
        await state.set_state(ReportFlow.confirm)
        await state.set_data(
            {
                "pending": content.dump(),
                "chat_id": message.chat.id,
                "message_id": message.message_id,
            }
        )
        if len(rows) == 1:
            only = rows[0]
            await message.answer(
                say(loc, Sentence.CONFIRM_ONE, title=only.item.title),
                reply_markup=keyboards.confirm(Flow.REPORT, only.assignment.id, loc),
            )
            return
    choices = [(r.assignment.id, r.item.title) for r in rows]
    await message.answer(
        say(loc, Sentence.CHOOSE_ITEM), reply_markup=keyboards.picker(Flow.REPORT, choices, loc)
    )


async def ask_for_report(message: Message, assignment: Assignment, turn: Turn) -> None:
    """Wait for the report text on ``assignment`` (after a pick or the 填报进展 button)."""
    await turn.state.set_state(ReportFlow.text)
    await turn.state.set_data({"aid": assignment.id})
    title = await title_of(turn.session, assignment)
    await message.answer(say(turn.person.locale, Sentence.ASK_REPORT, title=title))


@router.message(odd_content)
async def odd(message: Message, person: Person) -> None:
    """Stickers, voice, locations and the like: ask for text or a file."""
    await message.answer(say(person.locale, Sentence.SEND_TEXT_OR_FILE))


@router.message(in_album)
async def album_part(message: Message, turn: Turn) -> None:
    """A later message of an album that already filed a report joins that report."""
    assert message.media_group_id is not None
    report = await album_report(turn.session, message.chat.id, message.media_group_id)
    if report is None:
        raise SkipHandler  # the album's first message: handled as any other
    assignment = await load_assignment(turn.session, report.assignment_id, turn.person)
    await file_message(message, turn, assignment)


@router.message(StateFilter(ReportFlow.text), not_command)
async def typed_report(message: Message, turn: Turn) -> None:
    """The report typed after ``/report`` and picking an item."""
    data = await turn.state.get_data()
    assignment = await load_assignment(turn.session, int(data.get("aid", 0)), turn.person)
    await turn.state.clear()
    await file_message(message, turn, assignment)


@router.message(is_reply, not_command)
async def reply_to_reminder(message: Message, turn: Turn) -> None:
    """A reply the reply filer (`bot.replies`) left: it files a progress report on the
    reminder's assignment here (or says which rule refused it); a reply to a review or
    sign-off request shows that request again with its buttons; a reply to anything else
    offers the person's items."""
    session, person = turn.session, turn.person
    reminded = await replied_message(session, message)
    if reminded is not None and reminded.kind in REQUEST_KINDS:
        await answer_request_message(message, session, person, reminded.kind, reminded.payload)
        return
    if reminded is None:
        await offer(message, turn, content_of(message))
        return
    assignment = await load_assignment(session, reminded.assignment.id, person)
    await file_message(message, turn, assignment)


@router.message(Command("report"))
async def report_command(message: Message, turn: Turn) -> None:
    """``/report``: pick an item, then type the report."""
    await offer(message, turn, None)


@router.message(not_command)
async def free_message(message: Message, turn: Turn) -> None:
    """A message that is not a reply: confirm the only open item, or offer them as buttons."""
    await offer(message, turn, content_of(message))


@router.callback_query(Pick.filter(F.flow == Flow.REPORT))
async def picked(query: CallbackQuery, callback_data: Pick, turn: Turn) -> None:
    """An item was picked: file the waiting message, or ask for the report text."""
    state = turn.state
    assignment = await load_assignment(turn.session, callback_data.aid, turn.person)
    message = query.message
    if not isinstance(message, Message):
        raise refusal(NotFound, Sentence.MESSAGE_EXPIRED)
    data = await state.get_data()
    if await state.get_state() == ReportFlow.confirm.state and "pending" in data:
        await state.clear()
        await file_and_confirm(
            message,
            turn,
            assignment=assignment,
            content=Content.load(data["pending"]),
            chat_id=int(data["chat_id"]),
            message_id=int(data["message_id"]),
        )
    else:
        await ask_for_report(message, assignment, turn)
    await quietly(query.answer())
    await quietly(message.edit_reply_markup(reply_markup=None))


@router.edited_message()
async def edited(
    message: Message, session: AsyncSession, person: Person, clock: Clock, config: BotConfig
) -> None:
    """An edit to a message that was filed as a report updates the report (history kept)."""
    report = await report_for_message(session, message.chat.id, message.message_id)
    if report is None:
        return
    await edit_report(
        session,
        report=report,
        editor=person,
        text=message.text or message.caption or "",
        clock=clock,
        window=config.edit_window,
    )
    await message.answer(say(person.locale, Sentence.REPORT_EDITED))
