"""A co unit's (协办) input goes to the lead unit (主办): every report filed on a co
assignment is forwarded to the lead assignment's 责任人 (its unit's liaisons when it has none)
in chat and e-mail, through the outbox (kind ``co_input``, templates ``co_input.*``).

Imports `models/` and `supervision/` only; I/O through the session it is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Assignment, AssignmentRole, MessageKind, Person, Report
from supervision.access import unit_liaisons
from supervision.clock import Clock
from supervision.outbox import CHAT, EMAIL, notify_person

__all__ = ["CO_INPUT", "forward_co_input"]

CO_INPUT = MessageKind.CO_INPUT


async def _lead_people(session: AsyncSession, lead: Assignment) -> Sequence[Person]:
    """The lead assignment's owner, else (none named, or no longer active) its liaisons."""
    if lead.owner_id is not None:
        owner = await session.get(Person, lead.owner_id)
        if owner is not None and owner.active:
            return [owner]
    return await unit_liaisons(session, lead.unit_id)


async def forward_co_input(
    session: AsyncSession, filed: Sequence[tuple[Assignment, Report]], *, clock: Clock
) -> list[int]:
    """Queue each co assignment's new report for the lead unit's 责任人; return the row ids.

    Keyed by report (``r<id>:co_input``), so filing is never forwarded twice.
    """
    co = [(a, r) for a, r in filed if a.role == AssignmentRole.CO.value]
    if not co:
        return []
    rows = await session.scalars(
        select(Assignment)
        .where(
            Assignment.item_id.in_({a.item_id for a, _ in co}),
            Assignment.role == AssignmentRole.LEAD.value,
        )
        .order_by(Assignment.id)
    )
    leads = {a.item_id: a for a in rows if a.is_active}
    now = clock.now()
    ids: list[int] = []
    for assignment, report in co:
        lead = leads.get(assignment.item_id)
        if lead is None:  # the lead's work is over: nobody is waiting for the input
            continue
        for person in await _lead_people(session, lead):
            ids += await notify_person(
                session,
                person=person,
                kind=CO_INPUT,
                key=f"r{report.id}:{CO_INPUT}",
                channels=(CHAT, EMAIL),
                not_before=now,
                now=now,
                assignment_id=assignment.id,
                item_id=assignment.item_id,
                payload={"report_id": report.id},
            )
    return ids
