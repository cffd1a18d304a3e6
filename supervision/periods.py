"""Bulletin periods (通报周期): a month ``2026-11``, an ISO week ``2026-W47`` or a quarter
``2026-Q4``, with their first and last day and their Chinese label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from supervision.errors import ValidationFailed

__all__ = ["Period", "parse_period"]

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q(\d)$")
_QUARTER_ZH = {1: "一", 2: "二", 3: "三", 4: "四"}


@dataclass(frozen=True, slots=True)
class Period:
    """A bulletin period: its key (``2026-11``), kind, first and last day, and label."""

    key: str
    kind: str  # week | month | quarter
    starts_on: date
    ends_on: date
    label: str


def _month_end(year: int, month: int) -> date:
    nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(text: str) -> Period:
    """Parse ``2026-11`` (month), ``2026-W47`` (ISO week) or ``2026-Q4`` (quarter)."""
    raw = text.strip().upper()
    hint = "use 2026-11 (month), 2026-W47 (ISO week) or 2026-Q4 (quarter)"
    if m := _MONTH.match(raw):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ValidationFailed(f"period {text!r}: month must be 01-12; {hint}")
        return Period(
            raw, "month", date(year, month, 1), _month_end(year, month), f"{year}年{month}月"
        )
    if m := _WEEK.match(raw):
        year, week = int(m[1]), int(m[2])
        try:
            start = date.fromisocalendar(year, week, 1)
        except ValueError:
            raise ValidationFailed(f"period {text!r}: {year} has no ISO week {week}") from None
        end = start + timedelta(days=6)
        label = f"{year}年第{week}周（{start.month}月{start.day}日—{end.month}月{end.day}日）"
        return Period(raw, "week", start, end, label)
    if m := _QUARTER.match(raw):
        year, quarter = int(m[1]), int(m[2])
        if not 1 <= quarter <= 4:
            raise ValidationFailed(f"period {text!r}: quarter must be Q1-Q4")
        first = 3 * quarter - 2
        return Period(
            raw,
            "quarter",
            date(year, first, 1),
            _month_end(year, first + 2),
            f"{year}年第{_QUARTER_ZH[quarter]}季度",
        )
    raise ValidationFailed(f"period {text!r} is not understood; {hint}")
