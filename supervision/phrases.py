"""The glossary's phrases that need no enum: the language of a locale and the working-days
phrase. Kept apart from ``supervision.labels`` (which re-exports them) so the template
filters can use them in render workers without loading the ORM; imports nothing."""

from __future__ import annotations

from typing import Final, Literal

Lang = Literal["zh", "en"]
LANGS: Final[tuple[Lang, ...]] = ("zh", "en")


def lang_of(locale: str | None) -> Lang:
    """``en`` for English locales (``en``, ``en-GB``…), else ``zh``."""
    return "en" if (locale or "").lower().startswith("en") else "zh"


def working_days(n: int, locale: str | None = "zh") -> str:
    """3个工作日 / 3 working days / 1 working day."""
    if lang_of(locale) == "en":
        return f"{n} working day{'' if n == 1 else 's'}"
    return f"{n}个工作日"


def days_phrase(days_left: int, locale: str | None = "zh") -> str:
    """剩余3个工作日 / 今日到期 / 已逾期2个工作日, or the English equivalent."""
    en = lang_of(locale) == "en"
    if days_left > 0:
        span = working_days(days_left, locale)
        return f"{span} left" if en else f"剩余{span}"
    if days_left == 0:
        return "due today" if en else "今日到期"
    span = working_days(-days_left, locale)
    return f"{span} overdue" if en else f"已逾期{span}"
