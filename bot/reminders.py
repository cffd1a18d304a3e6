"""The buttons under reminders (填报进展 / 申请办结 / 申请延期), whose format the notifier owns."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message

from bot.callbacks import Flow
from bot.common import Turn, quietly
from bot.reports import ask_for_report, load_assignment
from bot.requests import begin
from bot.routing import Routes
from notifier.channels.telegram import CLOSE, EXTEND, REPORT, AssignmentAction
from supervision.errors import NotFound
from supervision.labels import Sentence, refusal

router = Routes("reminders")

FLOWS = {CLOSE: Flow.COMPLETE, EXTEND: Flow.EXTEND}


@router.callback_query(AssignmentAction.filter())
async def reminder_button(
    query: CallbackQuery, callback_data: AssignmentAction, turn: Turn
) -> None:
    """Start the dialog the button names, for a person who may act on that assignment."""
    if not isinstance(query.message, Message):
        raise refusal(NotFound, Sentence.MESSAGE_EXPIRED)
    assignment = await load_assignment(turn.session, callback_data.assignment_id, turn.person)
    if callback_data.action == REPORT:
        await ask_for_report(query.message, assignment, turn)
    elif callback_data.action in FLOWS:
        await begin(query.message, FLOWS[callback_data.action], assignment, turn)
    else:
        raise refusal(NotFound, Sentence.UNKNOWN_BUTTON)
    await quietly(query.answer())
