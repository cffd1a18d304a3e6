"""What waits for the office's decision (待审核): the one definition the reviews page lists
by and the menu's badge counts.

Imports only `models/` and `supervision.access`; I/O goes through the session it is given.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Extension, Report, ReportKind, ReviewState
from supervision.access import Member, Permission

__all__ = ["PENDING_COMPLETION", "PENDING_EXTENSION", "awaiting_decision"]

#: A completion report (办结报告) sent to the office (signed off first when it needed it).
PENDING_COMPLETION: Final[ColumnElement[bool]] = and_(
    Report.kind == ReportKind.COMPLETION.value,
    Report.review_state == ReviewState.PENDING.value,
)
#: An extension request (延期申请) not yet decided.
PENDING_EXTENSION: Final[ColumnElement[bool]] = Extension.state == ReviewState.PENDING.value


async def awaiting_decision(session: AsyncSession, member: Member) -> int:
    """How many requests ``member`` may decide now (同意/退回): every pending completion and
    extension for a reviewer (the office reviews every unit's), none for anyone else. One
    statement, two counts over the indexed review states."""
    if not member.allows(Permission.REVIEW):
        return 0
    completions = select(func.count()).select_from(Report).where(PENDING_COMPLETION)
    extensions = select(func.count()).select_from(Extension).where(PENDING_EXTENSION)
    total = select(completions.scalar_subquery() + extensions.scalar_subquery())
    return int(await session.scalar(total) or 0)
