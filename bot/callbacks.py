"""Callback data of the bot's own buttons (pickers, review, sign-off, date picker).

Reminder buttons come from the notifier's Telegram channel; their format is defined there.
Every button is re-checked on press: the data is only a claim, never a permission.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class Flow(StrEnum):
    """What a picked assignment is for."""

    REPORT = "r"
    COMPLETE = "c"
    EXTEND = "x"


class Pick(CallbackData, prefix="pk"):
    """An assignment chosen for a flow (report, ask to close, ask for more time)."""

    flow: Flow
    aid: int


class Review(CallbackData, prefix="rv"):
    """A supervisor's decision on a completion report (``c``) or extension (``x``)."""

    kind: str
    id: int
    ok: bool


class SignOff(CallbackData, prefix="so"):
    """A principal signs off a completion report."""

    rid: int


class DatePick(CallbackData, prefix="dp"):
    """The inline date picker: ``d`` picks yyyymmdd, ``m`` shows month yyyymm."""

    act: str
    val: int


class Cancel(CallbackData, prefix="cx"):
    """Cancel the running dialog."""


class ChannelPref(CallbackData, prefix="cp"):
    """A change to one's channel preference (``/settings``): ``u`` move up, ``x`` leave out,
    ``a`` add at the end, ``r`` back to the default (``ch`` empty)."""

    act: str
    ch: str
