"""Inline keyboards: assignment pickers, review and sign-off buttons, the date picker."""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Sequence
from datetime import date

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Cancel, DatePick, Flow, Pick, Review, SignOff
from bot.texts import Button, Sentence, button, decision_label, say
from models import Decision

MAX_BUTTON_TITLE = 40


def short(title: str, limit: int = MAX_BUTTON_TITLE) -> str:
    """A title cut to fit a button."""
    return title if len(title) <= limit else title[: limit - 1] + "…"


def picker(flow: Flow, choices: Sequence[tuple[int, str]], locale: str) -> InlineKeyboardMarkup:
    """One button per (assignment id, title), then Cancel."""
    rows = [
        [InlineKeyboardButton(text=short(title), callback_data=Pick(flow=flow, aid=aid).pack())]
        for aid, title in choices
    ]
    rows.append([cancel_button(locale)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm(flow: Flow, aid: int, locale: str) -> InlineKeyboardMarkup:
    """Yes / Cancel for a single assignment."""
    yes = InlineKeyboardButton(
        text=button(locale, Button.CONFIRM), callback_data=Pick(flow=flow, aid=aid).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[yes, cancel_button(locale)]])


def cancel_button(locale: str) -> InlineKeyboardButton:
    """The Cancel button."""
    return InlineKeyboardButton(text=button(locale, Button.CANCEL), callback_data=Cancel().pack())


def review(kind: str, record_id: int, locale: str) -> InlineKeyboardMarkup:
    """同意 / 退回 for a completion report (``c``) or an extension (``x``)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=decision_label(locale, Decision.APPROVE),
                    callback_data=Review(kind=kind, id=record_id, ok=True).pack(),
                ),
                InlineKeyboardButton(
                    text=decision_label(locale, Decision.REJECT),
                    callback_data=Review(kind=kind, id=record_id, ok=False).pack(),
                ),
            ]
        ]
    )


def sign_off(report_id: int, locale: str) -> InlineKeyboardMarkup:
    """The principal's Sign off button."""
    signoff = InlineKeyboardButton(
        text=button(locale, Button.SIGN_OFF), callback_data=SignOff(rid=report_id).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[signoff]])


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + by
    return index // 12, index % 12 + 1


def date_picker(year: int, month: int, *, after: date, locale: str) -> InlineKeyboardMarkup:
    """A month grid; only days after ``after`` can be picked."""
    head = say(
        locale, Sentence.MONTH, year=year, month=month, month_name=month_calendar.month_abbr[month]
    )
    noop = DatePick(act="n", val=0).pack()
    prev_y, prev_m = _shift(year, month, -1)
    next_y, next_m = _shift(year, month, 1)
    rows: list[list[InlineKeyboardButton]] = [
        [
            InlineKeyboardButton(
                text="‹", callback_data=DatePick(act="m", val=prev_y * 100 + prev_m).pack()
            ),
            InlineKeyboardButton(text=head, callback_data=noop),
            InlineKeyboardButton(
                text="›", callback_data=DatePick(act="m", val=next_y * 100 + next_m).pack()
            ),
        ]
    ]
    names = say(locale, Sentence.WEEKDAYS)
    rows.append([InlineKeyboardButton(text=n, callback_data=noop) for n in names])
    for week in month_calendar.Calendar().monthdayscalendar(year, month):
        row = []
        for day in week:
            if day == 0 or date(year, month, day) <= after:
                row.append(InlineKeyboardButton(text=str(day) if day else "·", callback_data=noop))
            else:
                value = year * 10000 + month * 100 + day
                row.append(
                    InlineKeyboardButton(
                        text=str(day), callback_data=DatePick(act="d", val=value).pack()
                    )
                )
        rows.append(row)
    rows.append([cancel_button(locale)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
