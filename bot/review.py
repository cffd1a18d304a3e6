"""The office's review (Approve / Reject with a comment) and the principal's sign-off.

The buttons come from the bot's own cards (``/review``, ``/signoff``, replies) and from the
requests the notifier delivers (:class:`ReviewAction`, :class:`SignoffAction`, whose format
the notifier owns); both go through :func:`press_review` / :func:`press_signoff`.
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import keyboards
from bot.callbacks import Review, SignOff
from bot.common import quietly
from bot.filters import has_text, not_command
from bot.routing import Routes
from bot.states import ReviewFlow
from bot.texts import Sentence, say
from models import Assignment, Extension, Item, Person, Report, ReportKind, Unit
from models.report import ReviewState
from notifier.channels.telegram import (
    APPROVE,
    COMPLETION,
    EXTENSION,
    REJECT,
    ReviewAction,
    SignoffAction,
)
from supervision.access import Action, Member, NotPermitted, can, is_reviewer, require
from supervision.clock import Clock
from supervision.errors import InvalidTransition, NotFound
from supervision.labels import refusal
from supervision.requests import decide_completion, decide_extension, sign_off

router = Routes("review")

LIST_LIMIT = 20
PREVIEW = 600


async def _names(session: AsyncSession, assignment_id: int) -> tuple[str, str]:
    row = (
        await session.execute(
            select(Item.title, Unit.name)
            .join(Assignment, Assignment.item_id == Item.id)
            .join(Unit, Unit.id == Assignment.unit_id)
            .where(Assignment.id == assignment_id)
        )
    ).one()
    return str(row[0]), str(row[1])


async def _who(session: AsyncSession, person_id: int | None) -> str:
    person = await session.get(Person, person_id) if person_id else None
    return person.name if person else "—"


@router.message(Command("review"))
async def review_list(message: Message, session: AsyncSession, person: Person) -> None:
    """Supervisors: every pending completion and extension request, each with its buttons."""
    if not is_reviewer(person):
        await message.answer(say(person.locale, Sentence.NOT_ALLOWED))
        return
    loc = person.locale
    reports = (
        await session.scalars(
            select(Report)
            .where(
                Report.kind == ReportKind.COMPLETION,
                Report.review_state == ReviewState.PENDING,
            )
            .order_by(Report.id)
            .limit(LIST_LIMIT)
        )
    ).all()
    extensions = (
        await session.scalars(
            select(Extension)
            .where(Extension.state == ReviewState.PENDING)
            .order_by(Extension.id)
            .limit(LIST_LIMIT)
        )
    ).all()
    if not reports and not extensions:
        await message.answer(say(loc, Sentence.REVIEW_NONE))
        return
    for report in reports:
        await show_completion(message, session, report, loc)
    for ext in extensions:
        await show_extension(message, session, ext, loc)


async def show_completion(
    message: Message, session: AsyncSession, report: Report, loc: str
) -> None:
    """A completion request with its Approve / Reject buttons."""
    title, unit = await _names(session, report.assignment_id)
    text = say(
        loc,
        Sentence.REVIEW_COMPLETION,
        title=title,
        unit=unit,
        who=await _who(session, report.author_id),
        text=report.text[:PREVIEW],
    )
    await message.answer(text, reply_markup=keyboards.review("c", report.id, loc))


async def show_extension(message: Message, session: AsyncSession, ext: Extension, loc: str) -> None:
    """An extension request with its Approve / Reject buttons."""
    title, unit = await _names(session, ext.assignment_id)
    text = say(
        loc,
        Sentence.REVIEW_EXTENSION,
        title=title,
        unit=unit,
        who=await _who(session, ext.requested_by_id),
        old=ext.old_due_on.isoformat(),
        new=ext.new_due_on.isoformat(),
        reason=ext.reason[:PREVIEW],
        progress=ext.progress[:PREVIEW],
    )
    await message.answer(text, reply_markup=keyboards.review("x", ext.id, loc))


async def show_signoff(message: Message, session: AsyncSession, report: Report, loc: str) -> None:
    """A completion report awaiting the principal, with its Sign off button."""
    title, _unit = await _names(session, report.assignment_id)
    text = say(
        loc,
        Sentence.SIGNOFF_ITEM,
        title=title,
        who=await _who(session, report.author_id),
        text=report.text[:PREVIEW],
    )
    await message.answer(text, reply_markup=keyboards.sign_off(report.id, loc))


async def answer_request_message(
    message: Message, session: AsyncSession, person: Person, kind: str, payload: dict[str, Any]
) -> None:
    """A reply to a review or sign-off request: show it again with its buttons."""
    loc = person.locale
    if kind == "signoff_request":
        report = await session.get(Report, int(payload.get("report_id", 0)))
        if report is None:
            raise refusal(NotFound, Sentence.NO_SUCH_REPORT)
        assignment = await session.get_one(Assignment, report.assignment_id)
        require(person, Action.SIGN_OFF, assignment)
        if report.review_state != ReviewState.AWAITING_SIGNOFF:
            raise refusal(InvalidTransition, Sentence.REPORT_HANDLED)
        await show_signoff(message, session, report, loc)
        return
    if "extension_id" in payload:
        target = await _target(session, "x", int(payload["extension_id"]), person)
    else:
        target = await _target(session, "c", int(payload.get("report_id", 0)), person)
    if isinstance(target, Report):
        await show_completion(message, session, target, loc)
    else:
        await show_extension(message, session, target, loc)


async def _target(
    session: AsyncSession, kind: str, record_id: int, person: Person
) -> Report | Extension:
    """The request a review button points at, if the person may review it and it is pending."""
    target: Report | Extension | None
    if kind == "c":
        target = await session.get(Report, record_id)
        if target is not None and target.kind != ReportKind.COMPLETION:
            target = None
    elif kind == "x":
        target = await session.get(Extension, record_id)
    else:
        target = None
    if target is None:
        raise refusal(NotFound, Sentence.NO_SUCH_REQUEST)
    assignment = await session.get_one(Assignment, target.assignment_id)
    require(person, Action.REVIEW, assignment)
    state = target.review_state if isinstance(target, Report) else target.state
    if state != ReviewState.PENDING:
        raise refusal(InvalidTransition, Sentence.REQUEST_DECIDED)
    return target


async def _decide(
    session: AsyncSession,
    target: Report | Extension,
    *,
    reviewer: Person,
    approve: bool,
    comment: str | None,
    clock: Clock,
) -> None:
    if isinstance(target, Report):
        await decide_completion(
            session, report=target, reviewer=reviewer, approve=approve, comment=comment, clock=clock
        )
    else:
        await decide_extension(
            session,
            extension=target,
            reviewer=reviewer,
            approve=approve,
            comment=comment,
            clock=clock,
        )


async def press_review(
    query: CallbackQuery,
    kind: str,
    record_id: int,
    approve: bool,
    *,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    clock: Clock,
) -> None:
    """A review button (the bot's own card or the notifier's request): Approve decides at
    once and drops the buttons; Reject asks for a comment first (:func:`reject_comment`)."""
    target = await _target(session, kind, record_id, person)
    loc = person.locale
    message = query.message if isinstance(query.message, Message) else None
    if approve:
        await _decide(session, target, reviewer=person, approve=True, comment=None, clock=clock)
        await quietly(query.answer(say(loc, Sentence.APPROVED)))
        if message is not None:
            await quietly(message.edit_reply_markup(reply_markup=None))
            await message.answer(say(loc, Sentence.APPROVED))
        return
    data: dict[str, Any] = {"kind": kind, "id": record_id}
    if message is not None:
        # The buttons go once the comment has decided the request.
        data.update(chat_id=message.chat.id, message_id=message.message_id)
    await state.set_state(ReviewFlow.comment)
    await state.set_data(data)
    await quietly(query.answer())
    if message is not None:
        await message.answer(say(loc, Sentence.ASK_COMMENT))


@router.callback_query(Review.filter())
async def review_button(
    query: CallbackQuery,
    callback_data: Review,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    clock: Clock,
) -> None:
    """Approve / Reject under a card of ``/review`` or a reply to a request."""
    await press_review(
        query,
        callback_data.kind,
        callback_data.id,
        callback_data.ok,
        session=session,
        person=person,
        state=state,
        clock=clock,
    )


@router.callback_query(ReviewAction.filter())
async def review_request_button(
    query: CallbackQuery,
    callback_data: ReviewAction,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    clock: Clock,
) -> None:
    """同意 / 退回 under a review request the notifier delivered."""
    if callback_data.decision not in (APPROVE, REJECT) or callback_data.subject not in (
        COMPLETION,
        EXTENSION,
    ):
        raise refusal(NotFound, Sentence.UNKNOWN_BUTTON)
    await press_review(
        query,
        callback_data.subject,
        callback_data.subject_id,
        callback_data.decision == APPROVE,
        session=session,
        person=person,
        state=state,
        clock=clock,
    )


@router.message(StateFilter(ReviewFlow.comment), not_command, has_text)
async def reject_comment(
    message: Message,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    clock: Clock,
) -> None:
    """The comment of a rejection; the request is rejected with it and its buttons go."""
    data = await state.get_data()
    target = await _target(session, str(data.get("kind", "")), int(data.get("id", 0)), person)
    await _decide(
        session, target, reviewer=person, approve=False, comment=message.text, clock=clock
    )
    await state.clear()
    await message.answer(say(person.locale, Sentence.REJECTED))
    chat_id, message_id = data.get("chat_id"), data.get("message_id")
    if isinstance(chat_id, int) and isinstance(message_id, int) and message.bot is not None:
        await quietly(
            message.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        )


@router.message(Command("signoff"))
async def signoff_list(message: Message, session: AsyncSession, person: Person) -> None:
    """Principals: completion reports of their unit awaiting sign-off, each with its button."""
    loc = person.locale
    scope = Member.of(person)
    if not scope.signs_off:
        await message.answer(say(loc, Sentence.NOT_ALLOWED))
        return
    query = (
        select(Report)
        .join(Assignment, Assignment.id == Report.assignment_id)
        .where(Report.review_state == ReviewState.AWAITING_SIGNOFF)
        .order_by(Report.id)
        .limit(LIST_LIMIT)
    )
    reports = (await session.scalars(scope.filter_signable(query))).all()
    if not reports:
        await message.answer(say(loc, Sentence.SIGNOFF_NONE))
        return
    for report in reports:
        await show_signoff(message, session, report, loc)


async def press_signoff(
    query: CallbackQuery,
    report_id: int,
    *,
    session: AsyncSession,
    person: Person,
    clock: Clock,
) -> None:
    """A Sign off button (the bot's own card or the notifier's request): the report goes to
    the office and the buttons go."""
    report = await session.get(Report, report_id)
    if report is None:
        raise refusal(NotFound, Sentence.NO_SUCH_REPORT)
    assignment = await session.get_one(Assignment, report.assignment_id)
    if not can(person, Action.SIGN_OFF, assignment):
        raise refusal(NotPermitted, Sentence.NOT_YOUR_SIGNOFF)
    await sign_off(session, report=report, principal=person, clock=clock)
    loc = person.locale
    await quietly(query.answer(say(loc, Sentence.SIGNED_OFF)))
    if isinstance(query.message, Message):
        await quietly(query.message.edit_reply_markup(reply_markup=None))
        await query.message.answer(say(loc, Sentence.SIGNED_OFF))


@router.callback_query(SignOff.filter())
async def signoff_button(
    query: CallbackQuery,
    callback_data: SignOff,
    session: AsyncSession,
    person: Person,
    clock: Clock,
) -> None:
    """签发 under a card of ``/signoff`` or a reply to a request."""
    await press_signoff(query, callback_data.rid, session=session, person=person, clock=clock)


@router.callback_query(SignoffAction.filter())
async def signoff_request_button(
    query: CallbackQuery,
    callback_data: SignoffAction,
    session: AsyncSession,
    person: Person,
    clock: Clock,
) -> None:
    """签发 under a sign-off request the notifier delivered."""
    await press_signoff(query, callback_data.report_id, session=session, person=person, clock=clock)
