"""Reading a date typed by a person: ``2027-01-31``, ``2027/1/31``, ``1月31日``, ``2027年1月31日``.

Pure functions; imports nothing but the standard library and `supervision.errors`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from supervision.errors import ValidationFailed

__all__ = ["MAX_INPUT", "match_full_date", "parse_date"]

MAX_INPUT = 40

_FULL = re.compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})")
_CN_FULL = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_CN_SHORT = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")

HINT = "请按 2027-01-31、2027/1/31、1月31日 或 2027年1月31日 的格式输入日期"


def _make(year: int, month: int, day: int, raw: str) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationFailed(f"没有这一天：{raw}（{HINT}）") from None


def match_full_date(text: str) -> tuple[int, int, int] | None:
    """Year, month and day of a date written with its year (``2027-01-31``, ``2027/1/31``,
    ``2027.1.31``, ``2027年1月31日``), not yet checked to exist; None for any other text."""
    raw = unicodedata.normalize("NFKC", text).strip()
    if m := _FULL.fullmatch(raw) or _CN_FULL.fullmatch(raw):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    return None


def parse_date(text: str, *, today: date) -> date:
    """The date in ``text``; a month-day without a year is its next occurrence from ``today``."""
    if len(text) > MAX_INPUT:
        raise ValidationFailed(f"日期太长（{HINT}）")
    raw = unicodedata.normalize("NFKC", text).strip()
    if not raw:
        raise ValidationFailed(f"没有输入日期（{HINT}）")
    if full := match_full_date(raw):
        return _make(*full, raw)
    if m := _CN_SHORT.fullmatch(raw):
        month, day = int(m.group(1)), int(m.group(2))
        if month == 2 and day == 29:
            year = today.year
            while True:
                try:
                    candidate = date(year, 2, 29)
                except ValueError:
                    year += 1
                    continue
                if candidate >= today:
                    return candidate
                year += 1
        candidate = _make(today.year, month, day, raw)
        return candidate if candidate >= today else candidate.replace(year=today.year + 1)
    raise ValidationFailed(f"看不懂这个日期：{raw[:MAX_INPUT]}（{HINT}）")
