"""发文字号 of a bulletin document (督查通报〔2026〕12号): the number a supervisor gives, checked,
or the office's pattern filled with the bulletin's number in its year.

Imports only ``models`` and ``supervision/`` (the catalogue's refusals, the bulletins' count).
"""

from __future__ import annotations

import string
from datetime import date
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Bulletin
from supervision.errors import ValidationFailed
from supervision.labels import Sentence, refusal

__all__ = [
    "DEFAULT_PATTERN",
    "MAX_NUMBER",
    "check_pattern",
    "document_number",
    "given_number",
    "year_sequence",
]

#: the office's pattern unless ``DUBAN_BULLETIN_NUMBER`` says otherwise
DEFAULT_PATTERN: Final = "督查通报〔{year}〕{n}号"
MAX_NUMBER: Final = 50
_FIELDS: Final = frozenset({"year", "n"})


def check_pattern(pattern: str) -> str:
    """``pattern`` when it names ``{n}``, perhaps ``{year}``, and nothing else in braces."""
    try:
        fields = [(name, spec, conv) for _, name, spec, conv in string.Formatter().parse(pattern)]
    except ValueError:  # an unmatched brace
        fields = [("", "x", None)]
    named = [(name, spec, conv) for name, spec, conv in fields if name is not None]
    names = {name for name, _, _ in named}
    plain = all(not spec and conv is None for _, spec, conv in named)
    if not plain or "n" not in names or not names <= _FIELDS:
        raise refusal(ValidationFailed, Sentence.DOC_NUMBER_PATTERN_BAD, pattern=pattern)
    return pattern


def given_number(text: str) -> str:
    """A 发文字号 typed by a supervisor, stripped: one line of at most `MAX_NUMBER` characters
    without control characters; else a refusal."""
    number = text.strip()
    if not number or len(number) > MAX_NUMBER or any(not c.isprintable() for c in number):
        raise refusal(ValidationFailed, Sentence.DOC_NUMBER_BAD, limit=MAX_NUMBER)
    return number


def document_number(pattern: str, *, year: int, n: int) -> str:
    """The pattern filled in: ``督查通报〔{year}〕{n}号`` → 督查通报〔2026〕12号."""
    return check_pattern(pattern).format(year=year, n=n)


async def year_sequence(session: AsyncSession, year: int, *, bulletin_id: int | None = None) -> int:
    """A bulletin's number in the year its period starts (第N期): the stored bulletin
    ``bulletin_id``'s place among that year's, or the next one's when None."""
    query = select(func.count(Bulletin.id)).where(
        Bulletin.starts_on >= date(year, 1, 1), Bulletin.starts_on <= date(year, 12, 31)
    )
    if bulletin_id is not None:
        return int(await session.scalar(query.where(Bulletin.id <= bulletin_id)) or 0)
    return int(await session.scalar(query) or 0) + 1
