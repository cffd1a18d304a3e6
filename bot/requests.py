"""Asking to close (``/complete``) and for more time (``/extend``, with a date picker)."""

from __future__ import annotations

from datetime import date, timedelta

from aiogram import F
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards
from bot.callbacks import Cancel, DatePick, Flow, Pick
from bot.common import Turn, content_of, quietly, status_of, title_of
from bot.config import BotConfig
from bot.filters import has_text, not_command
from bot.reports import load_assignment
from bot.routing import Routes
from bot.states import CompletionFlow, ExtensionFlow, ReviewFlow
from bot.texts import Sentence, say
from models import Assignment, ItemState, Person
from supervision.access import actionable_assignments
from supervision.clock import Clock, local_today
from supervision.dateparse import parse_date
from supervision.errors import InvalidTransition, NotFound
from supervision.labels import refusal
from supervision.requests import may_extend, request_completion, request_extension

router = Routes("requests")


@router.message(Command("cancel"))
async def cancel_command(message: Message, person: Person, state: FSMContext) -> None:
    """Leave any dialog."""
    running = await state.get_state()
    await state.clear()
    await message.answer(
        say(person.locale, Sentence.CANCELLED if running else Sentence.NOTHING_TO_CANCEL)
    )


@router.callback_query(Cancel.filter())
async def cancel_button(query: CallbackQuery, person: Person, state: FSMContext) -> None:
    """The Cancel button leaves any dialog."""
    await state.clear()
    await quietly(query.answer(say(person.locale, Sentence.CANCELLED)))
    if isinstance(query.message, Message):
        await quietly(query.message.edit_reply_markup(reply_markup=None))


async def _choose(message: Message, flow: Flow, turn: Turn) -> None:
    await turn.state.clear()
    mine = await actionable_assignments(turn.session, turn.person)
    open_rows = [
        r
        for r in await status_of(turn.session, mine, clock=turn.clock, config=turn.config)
        if r.assignment.state == ItemState.OPEN
    ]
    loc = turn.person.locale
    if not open_rows:
        await message.answer(say(loc, Sentence.NO_OPEN))
        return
    key = Sentence.CHOOSE_FOR_COMPLETE if flow == Flow.COMPLETE else Sentence.CHOOSE_FOR_EXTEND
    choices = [(r.assignment.id, r.item.title) for r in open_rows]
    await message.answer(say(loc, key), reply_markup=keyboards.picker(flow, choices, loc))


@router.message(Command("complete"))
async def complete_command(message: Message, turn: Turn) -> None:
    """``/complete``: pick the item to close."""
    await _choose(message, Flow.COMPLETE, turn)


@router.message(Command("extend"))
async def extend_command(message: Message, turn: Turn) -> None:
    """``/extend``: pick the item that needs more time."""
    await _choose(message, Flow.EXTEND, turn)


async def begin(message: Message, flow: Flow, assignment: Assignment, turn: Turn) -> None:
    """Start the completion or extension dialog for an assignment the person may act on."""
    if flow == Flow.EXTEND:
        may_extend(assignment, today=local_today(turn.clock, turn.config.tz))
    elif assignment.state != ItemState.OPEN:
        raise refusal(InvalidTransition, Sentence.NOT_OPEN)
    loc, state = turn.person.locale, turn.state
    title = await title_of(turn.session, assignment)
    if flow == Flow.COMPLETE:
        await state.set_state(CompletionFlow.summary)
        await state.set_data({"aid": assignment.id})
        await message.answer(say(loc, Sentence.ASK_SUMMARY, title=title))
        return
    await state.set_state(ExtensionFlow.reason)
    await state.set_data({"aid": assignment.id})
    await message.answer(say(loc, Sentence.ASK_REASON, title=title))


@router.callback_query(Pick.filter(F.flow.in_({Flow.COMPLETE, Flow.EXTEND})))
async def picked(query: CallbackQuery, callback_data: Pick, turn: Turn) -> None:
    """An item was picked for a completion or extension request."""
    assignment = await load_assignment(turn.session, callback_data.aid, turn.person)
    if not isinstance(query.message, Message):
        raise refusal(NotFound, Sentence.MESSAGE_EXPIRED)
    await begin(query.message, callback_data.flow, assignment, turn)
    await quietly(query.answer())
    await quietly(query.message.edit_reply_markup(reply_markup=None))


@router.message(StateFilter(CompletionFlow.summary), not_command)
async def summary(
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    clock: Clock,
    config: BotConfig,
) -> None:
    """The completion summary: file the completion report and say where it goes next."""
    data = await state.get_data()
    assignment = await load_assignment(session, int(data.get("aid", 0)), person)
    content = content_of(message)
    report = await request_completion(
        session,
        assignment=assignment,
        person=person,
        summary=content.text,
        attachments=content.attachments,
        clock=clock,
        chat_id=message.chat.id,
        chat_message_id=message.message_id,
        media_group_id=message.media_group_id,
    )
    await state.clear()
    loc = person.locale
    nxt = say(
        loc,
        Sentence.TO_SIGNOFF if report.review_state == "awaiting_signoff" else Sentence.TO_REVIEW,
    )
    title = await title_of(session, assignment)
    await message.answer(
        say(loc, Sentence.COMPLETION_FILED, title=title, number=report.number, next=nxt)
    )


@router.message(StateFilter(ExtensionFlow.reason), not_command, has_text)
async def reason(message: Message, person: Person, state: FSMContext) -> None:
    """The reason for more time."""
    await state.update_data(reason=message.text or "")
    await state.set_state(ExtensionFlow.progress)
    await message.answer(say(person.locale, Sentence.ASK_PROGRESS))


@router.message(StateFilter(ExtensionFlow.progress), not_command, has_text)
async def progress(
    message: Message, session: AsyncSession, person: Person, state: FSMContext
) -> None:
    """The progress so far; then the date picker."""
    data = await state.update_data(progress=message.text or "")
    assignment = await load_assignment(session, int(data.get("aid", 0)), person)
    await state.set_state(ExtensionFlow.date)
    first = assignment.due_on + timedelta(days=1)
    await message.answer(
        say(person.locale, Sentence.ASK_DATE, due=assignment.due_on.isoformat()),
        reply_markup=keyboards.date_picker(
            first.year, first.month, after=assignment.due_on, locale=person.locale
        ),
    )


async def _submit(message: Message, new_due_on: date, turn: Turn) -> None:
    session, person, state = turn.session, turn.person, turn.state
    data = await state.get_data()
    assignment = await load_assignment(session, int(data.get("aid", 0)), person)
    await request_extension(
        session,
        assignment=assignment,
        person=person,
        reason=str(data.get("reason", "")),
        progress=str(data.get("progress", "")),
        new_due_on=new_due_on,
        clock=turn.clock,
        tz=turn.config.tz,
    )
    await state.clear()
    title = await title_of(session, assignment)
    await message.answer(
        say(person.locale, Sentence.EXTENSION_FILED, title=title, date=new_due_on.isoformat())
    )


@router.message(StateFilter(ExtensionFlow.date), not_command, has_text)
async def typed_date(message: Message, turn: Turn) -> None:
    """The new date typed as 2027-01-31, 1月31日 and the like."""
    new_due_on = parse_date(message.text or "", today=local_today(turn.clock, turn.config.tz))
    await _submit(message, new_due_on, turn)


@router.message(
    StateFilter(
        ExtensionFlow.reason, ExtensionFlow.progress, ExtensionFlow.date, ReviewFlow.comment
    ),
    not_command,
)
async def text_please(message: Message, person: Person) -> None:
    """A dialog step that needs text got something else: ask again, keep the dialog."""
    await message.answer(say(person.locale, Sentence.SEND_TEXT))


@router.callback_query(DatePick.filter(), StateFilter(ExtensionFlow.date))
async def picked_date(query: CallbackQuery, callback_data: DatePick, turn: Turn) -> None:
    """The date picker: move between months, or pick a day."""
    session, person, state = turn.session, turn.person, turn.state
    message = query.message
    if not isinstance(message, Message):
        raise refusal(NotFound, Sentence.MESSAGE_EXPIRED)
    data = await state.get_data()
    assignment = await load_assignment(session, int(data.get("aid", 0)), person)
    if callback_data.act == "m":
        year, month = divmod(callback_data.val, 100)
        if not (2000 <= year <= 2200 and 1 <= month <= 12):
            raise refusal(NotFound, Sentence.BAD_DATE)
        await quietly(query.answer())
        await quietly(
            message.edit_reply_markup(
                reply_markup=keyboards.date_picker(
                    year, month, after=assignment.due_on, locale=person.locale
                )
            )
        )
        return
    if callback_data.act != "d":
        await quietly(query.answer())
        return
    year, rest = divmod(callback_data.val, 10000)
    try:
        new_due_on = date(year, *divmod(rest, 100))
    except ValueError:
        raise refusal(NotFound, Sentence.BAD_DATE) from None
    await _submit(message, new_due_on, turn)
    await quietly(query.answer())
    await quietly(message.edit_reply_markup(reply_markup=None))
