"""Every button and command checks who presses it: forged, foreign and stale callbacks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Assignment, Extension, ItemState, Report
from models.report import ReviewState
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.lifecycle import transition_assignment
from supervision.requests import request_completion, request_extension
from testing import SHANGHAI
from testing.bot_harness import Harness
from testing.bot_world import OUTSIDER_TG, OWNER_TG, PRINCIPAL_TG, SUPERVISOR_TG, World


async def _press(h: Harness, user: int, data: str) -> str:
    """Press a button with ``data`` under the last message the user got; the answer text."""
    await h.feed(h.fake.make_private_message(user, "/help"))
    message = h.fake.sent_to(user)[-1]
    await h.feed(h.fake.make_callback_query(user, message, data))
    return str(h.fake.answers[-1].get("text", ""))


async def _state(h: Harness) -> tuple[int, int, list[str]]:
    async with h.sessions() as session:
        reports = await session.scalar(select(func.count()).select_from(Report))
        extensions = await session.scalar(select(func.count()).select_from(Extension))
        states = list(
            (await session.scalars(select(Assignment.state).order_by(Assignment.id))).all()
        )
    return int(reports or 0), int(extensions or 0), states


async def test_forged_buttons_for_someone_elses_assignment(h: Harness, world: World) -> None:
    before = await _state(h)
    foreign = world.a_outside.id
    for data in (
        f"pk:r:{foreign}",
        f"pk:c:{foreign}",
        f"pk:x:{foreign}",
        f"a:r:{foreign}",
        f"a:c:{foreign}",
    ):
        assert "无权" in await _press(h, OWNER_TG, data)
    # No dialog was started: a following message is not taken as a report on that item.
    await h.feed(h.fake.make_private_message(OWNER_TG, "这不是给别人的报告"))
    assert await _state(h) == before


async def test_supervisor_buttons_pressed_by_an_owner(
    h: Harness, world: World, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessions() as session, session.begin():
        a = await session.get_one(Assignment, world.a_document.id)
        owner = await session.merge(world.owner)
        report = await request_completion(
            session, assignment=a, person=owner, summary="完成", clock=clock
        )
        rid = report.id
    assert "无权" in await _press(h, OWNER_TG, f"rv:c:{rid}:1")
    assert "无权" in await _press(h, OWNER_TG, f"rv:c:{rid}:0")
    assert "无权" in await _press(h, PRINCIPAL_TG, f"rv:c:{rid}:1")
    await h.feed(h.fake.make_private_message(OWNER_TG, "/review"))
    assert "无权" in h.last_text(OWNER_TG)
    async with sessions() as session:
        stored = await session.get_one(Report, rid)
        assert stored.review_state == ReviewState.PENDING
        assert (await session.get_one(Assignment, world.a_document.id)).state == (
            ItemState.COMPLETION_REQUESTED
        )


async def test_sign_off_only_by_the_principal(
    h: Harness, world: World, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessions() as session, session.begin():
        a = await session.get_one(Assignment, world.a_instruction.id)
        owner = await session.merge(world.owner)
        rid = (
            await request_completion(
                session, assignment=a, person=owner, summary="完成", clock=clock
            )
        ).id
    assert "无权" in await _press(h, OWNER_TG, f"so:{rid}")
    assert "无权" in await _press(h, SUPERVISOR_TG, f"so:{rid}")
    assert "无权" in await _press(h, OUTSIDER_TG, f"so:{rid}")
    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "/signoff"))
    assert "无权" in h.last_text(SUPERVISOR_TG)
    async with sessions() as session:
        assert (await session.get_one(Report, rid)).review_state == ReviewState.AWAITING_SIGNOFF


async def test_stale_buttons_after_close_and_after_decision(
    h: Harness, world: World, sessions: async_sessionmaker[AsyncSession], clock: FixedClock
) -> None:
    async with sessions() as session, session.begin():
        a = await session.get_one(Assignment, world.a_document.id)
        owner = await session.merge(world.owner)
        ext = await request_extension(
            session,
            assignment=a,
            person=owner,
            reason="原因",
            progress="进展",
            new_due_on=a.due_on.replace(year=2027),
            clock=clock,
            tz=SHANGHAI,
        )
        xid = ext.id
        await transition_assignment(session, a, ItemState.CLOSED, actor=Actor.system(), clock=clock)
    for data in (f"pk:r:{world.a_document.id}", f"a:e:{world.a_document.id}", f"rv:x:{xid}:1"):
        user = SUPERVISOR_TG if data.startswith("rv") else OWNER_TG
        assert "失效" in await _press(h, user, data)
    async with sessions() as session:
        assert (await session.get_one(Extension, xid)).state == ReviewState.PENDING
        assert (await session.get_one(Assignment, world.a_document.id)).due_on.year == 2026


@pytest.mark.parametrize(
    "data",
    ["pk:r:notanumber", "rv:z:1:1", "rv:c:999999:1", "so:999999", "dp:d:20271340", "zz", "a:q:1"],
)
async def test_malformed_or_unknown_callbacks_change_nothing(
    h: Harness, world: World, data: str
) -> None:
    before = await _state(h)
    user = SUPERVISOR_TG if data.startswith("rv") else OWNER_TG
    answer = await _press(h, user, data)
    assert "失效" in answer  # unknown or stale: "this action has expired"
    assert await _state(h) == before
