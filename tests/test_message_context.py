"""The message context shows the same light as the bot, the web and the CLI."""

from __future__ import annotations

from datetime import date

from models import Notification, Role
from notifier.context import ContextConfig, build_context
from supervision.calendar import WorkCalendar
from supervision.light import Light
from supervision.outbox import notify_person
from testing import factories as f


async def test_quiet_time_runs_from_the_items_received_date(session, clock):
    """An item received weeks ago with no report is yellow, even if its assignment row was
    created today (e.g. by an import): the light counts from ``received_on``."""
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit, roles={Role.OWNER}, telegram_user_id=77)
    item = await f.item(session, received_on=date(2026, 10, 12), due_on=date(2026, 12, 14))
    a = await f.assignment(session, item=item, unit=unit, owner=owner)
    a.created_at = clock.now()
    [row_id] = await notify_person(
        session,
        person=owner,
        kind="remind",
        key=f"a{a.id}:remind:t",
        channels=["chat"],
        not_before=clock.now(),
        now=clock.now(),
        assignment_id=a.id,
        item_id=item.id,
    )
    await session.commit()
    row = await session.get_one(Notification, row_id)
    built = await build_context(
        session, row, config=ContextConfig(), clock=clock, calendar=WorkCalendar()
    )
    assert built.context.assignment is not None
    assert built.context.assignment.light == Light.YELLOW.value
