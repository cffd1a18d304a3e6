"""The buttons under reminders (填报进展 / 申请办结 / 申请延期), whose format the notifier owns."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.callbacks import Flow
from bot.common import quietly
from bot.config import BotConfig
from bot.reports import ask_for_report, load_assignment
from bot.requests import begin
from bot.routing import Routes
from models import Person
from notifier.channels.telegram import CLOSE, EXTEND, REPORT, AssignmentAction
from supervision.clock import Clock
from supervision.errors import NotFound

router = Routes("reminders")

FLOWS = {CLOSE: Flow.COMPLETE, EXTEND: Flow.EXTEND}


@router.callback_query(AssignmentAction.filter())
async def reminder_button(
    query: CallbackQuery,
    callback_data: AssignmentAction,
    session: AsyncSession,
    person: Person,
    state: FSMContext,
    clock: Clock,
    config: BotConfig,
) -> None:
    """Start the dialog the button names, for a person who may act on that assignment."""
    if not isinstance(query.message, Message):
        raise NotFound("消息已过期 (message expired)")
    assignment = await load_assignment(session, callback_data.assignment_id, person)
    if callback_data.action == REPORT:
        await ask_for_report(query.message, assignment, session=session, person=person, state=state)
    elif callback_data.action in FLOWS:
        await begin(
            query.message,
            FLOWS[callback_data.action],
            assignment,
            session=session,
            person=person,
            state=state,
            clock=clock,
            config=config,
        )
    else:
        raise NotFound("未知的按钮 (unknown button)")
    await quietly(query.answer())
