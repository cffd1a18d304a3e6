"""Formatting filters for templates: dates, working-day phrases, percentages, excerpts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final

from jinja2 import (
    pass_context,
)
from jinja2.runtime import Context

from supervision import phrases

#: the longest excerpt a template may ask for
_EXCERPT_MAX: Final = 200_000

_CN_WEEKDAYS: Final = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")
_EN_WEEKDAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EN_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip


def _as_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {type(value).__name__}")


def cn_date(value: object, weekday: bool = True) -> str:
    """2026年11月12日（星期四）."""
    d = _as_date(value)
    text = f"{d.year}年{d.month}月{d.day}日"
    return f"{text}（{_CN_WEEKDAYS[d.weekday()]}）" if weekday else text


def en_date(value: object, weekday: bool = True) -> str:
    """Thu 12 Nov 2026."""
    d = _as_date(value)
    text = f"{d.day} {_EN_MONTHS[d.month - 1]} {d.year}"
    return f"{_EN_WEEKDAYS[d.weekday()]} {text}" if weekday else text


def cn_datetime(value: object) -> str:
    """2026年10月28日 16:40."""
    if not isinstance(value, datetime):
        return cn_date(value, weekday=False)
    return f"{cn_date(value, weekday=False)} {value:%H:%M}"


def en_datetime(value: object) -> str:
    """28 Oct 2026 16:40."""
    if not isinstance(value, datetime):
        return en_date(value, weekday=False)
    return f"{en_date(value, weekday=False)} {value:%H:%M}"


def days_phrase_for(days_left: int, locale: str) -> str:
    """剩余3个工作日 / 今日到期 / 已逾期2个工作日, or the English equivalent (the glossary's)."""
    return phrases.days_phrase(days_left, locale)


@pass_context
def days_phrase(context: Context, days_left: int, locale: str | None = None) -> str:
    return days_phrase_for(int(days_left), locale or str(context.get("locale", "zh")))


def percent(value: float | None, digits: int = 1) -> str:
    if value is None:  # nothing was due yet: a rate would be meaningless
        return "—"
    return f"{float(value) * 100:.{max(0, min(int(digits), 4))}f}%"


def excerpt(value: object, length: int = 120) -> str:
    text = " ".join(str(value).split())
    length = max(1, min(int(length), _EXCERPT_MAX))
    return text if len(text) <= length else text[: length - 1] + "…"
