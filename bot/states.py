"""The bot's multi-step dialogs (aiogram FSM states)."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class ReportFlow(StatesGroup):
    """Filing progress outside a reply: confirm the item, or type the report."""

    confirm = State()
    text = State()


class CompletionFlow(StatesGroup):
    """申请办结: the summary (text and files)."""

    summary = State()


class ExtensionFlow(StatesGroup):
    """申请延期: reason, progress so far, new date."""

    reason = State()
    progress = State()
    date = State()


class ReviewFlow(StatesGroup):
    """A supervisor rejecting a request types a comment."""

    comment = State()
