"""A milestone's (阶段性节点) own short ladder: 节点提醒 before its date, 节点催办 on the day,
节点逾期督办 after it (also to its 责任领导), through the scan, the outbox and delivery."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select, update

from models import (
    MILESTONE_STEPS,
    Assignment,
    Item,
    ItemState,
    Milestone,
    Notification,
    Policy,
    Role,
    Source,
    StepKind,
    Unit,
)
from notifier.delivery import Deliverer
from notifier.digest import scan_and_group
from notifier.scan import scan_once
from notifier.template_store import DbTemplateStore
from notifier.templating import Renderer
from supervision.access import scope_for
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.lifecycle import cancel_item, transition_assignment
from supervision.milestones import MilestoneSpec, add_milestone, complete_milestone, edit_milestone
from supervision.policy import ensure_default_policies
from supervision.rework import reopen_item
from supervision.schedule import reschedule
from supervision.timeline import EntryKind, item_timeline
from testing import SHANGHAI
from testing import factories as f
from testing.notifier_support import limiter_for, options, registry

pytestmark = pytest.mark.dialects

MS_DUE = date(2026, 12, 14)  # Mon: 节点提醒 Wed 9 Dec, 节点催办 Mon 14, 节点逾期督办 Tue 15
MS_KINDS = sorted(k.value for k in MILESTONE_STEPS)


def _at(*args: int) -> FixedClock:
    return FixedClock(datetime(*args, tzinfo=SHANGHAI))


async def _world(session, clock, *, owner=True, leader=True, locale="zh"):
    """An annual task with its lead unit, a supervisor, and one milestone due MS_DUE."""
    await ensure_default_policies(session)
    unit = await f.unit(session, name="市发改委")
    person = await f.person(
        session, name="王建国", unit=unit, roles={Role.OWNER}, telegram_user_id=1001, locale=locale
    )
    boss = await f.person(
        session, name="李明", unit=unit, roles={Role.LEADER}, telegram_user_id=1002
    )
    liaison = await f.person(
        session, name="周敏", unit=unit, roles={Role.LIAISON}, telegram_user_id=1003
    )
    unit_leader = await f.person(
        session, name="赵国庆", unit=unit, roles={Role.LEADER}, telegram_user_id=1004
    )
    supervisor = await f.person(session, name="陈静", roles={Role.SUPERVISOR})
    item = await f.item(
        session,
        ref="年度〔2026〕1号",
        title="重点项目建设",
        source=Source.ANNUAL_TASK,
        received_on=date(2026, 11, 2),
        due_on=date(2026, 12, 31),
    )
    lead = await f.assignment(session, item=item, unit=unit, owner=person)
    await reschedule(session, lead, clock=clock, tz=SHANGHAI)
    milestone = await add_milestone(
        session,
        scope=await scope_for(session, supervisor),
        actor=Actor.of(supervisor),
        item_id=item.id,
        spec=MilestoneSpec(
            "完成项目招标",
            MS_DUE,
            unit.id,
            person.id if owner else None,
            boss.id if leader else None,
        ),
        clock=clock,
    )
    await session.commit()
    return {
        "item": item,
        "milestone": milestone,
        "owner": person,
        "leader": boss,
        "liaison": liaison,
        "unit_leader": unit_leader,
        "supervisor": supervisor,
    }


async def _ms_rows(session) -> list[tuple[str, int | None, str]]:
    """The milestone rows so far: (kind, recipient, channel)."""
    rows = await session.execute(
        select(Notification.kind, Notification.recipient_id, Notification.channel)
        .where(Notification.kind.in_(MS_KINDS))
        .order_by(Notification.id)
    )
    return [tuple(r) for r in rows]


async def test_a_milestone_is_reminded_days_before_its_date(session, sessions, clock):
    w = await _world(session, clock)
    await scan_once(sessions, clock=_at(2026, 12, 8, 9, 0), tz=SHANGHAI)
    assert await _ms_rows(session) == []
    result = await scan_once(sessions, clock=_at(2026, 12, 9, 9, 0), tz=SHANGHAI)
    assert result.milestones == 1 and result.by_step.get("ms_remind") == 1
    owner = w["owner"].id
    assert await _ms_rows(session) == [
        ("ms_remind", owner, "telegram"),
        ("ms_remind", owner, "email"),
    ]
    row = await session.scalar(select(Notification).where(Notification.kind == "ms_remind"))
    assert row is not None and row.payload["milestone_id"] == w["milestone"].id
    assert row.dedupe_key.startswith(f"m{w['milestone'].id}:ms_remind:2026-12-09:")
    assert row.item_id == w["item"].id and row.assignment_id is None


async def test_a_milestone_is_urged_on_its_due_day(session, sessions, clock):
    w = await _world(session, clock)
    await scan_once(sessions, clock=_at(2026, 12, 9, 9, 0), tz=SHANGHAI)
    await scan_once(sessions, clock=_at(2026, 12, 14, 9, 0), tz=SHANGHAI)
    urged = [r for r in await _ms_rows(session) if r[0] == "ms_urge"]
    assert urged == [("ms_urge", w["owner"].id, "telegram"), ("ms_urge", w["owner"].id, "email")]


async def test_an_overdue_milestone_goes_to_its_leader_too(session, sessions, clock):
    w = await _world(session, clock)
    await scan_once(sessions, clock=_at(2026, 12, 15, 9, 0), tz=SHANGHAI)
    rows = await _ms_rows(session)
    # Missed steps are not sent late: only the latest, 节点逾期督办, goes out.
    assert {r[0] for r in rows} == {"ms_overdue"}
    assert {r[1] for r in rows} == {w["owner"].id, w["leader"].id}


async def test_a_milestone_without_a_leader_reaches_no_unit_leader(session, sessions, clock):
    w = await _world(session, clock, leader=False)
    await scan_once(sessions, clock=_at(2026, 12, 15, 9, 0), tz=SHANGHAI)
    assert {r[1] for r in await _ms_rows(session)} == {w["owner"].id}


async def test_a_milestone_without_a_responsible_person_goes_to_the_liaison(
    session, sessions, clock
):
    w = await _world(session, clock, owner=False)
    await scan_once(sessions, clock=_at(2026, 12, 9, 9, 0), tz=SHANGHAI)
    assert {r[1] for r in await _ms_rows(session)} == {w["liaison"].id}


async def test_a_done_milestone_gets_no_reminder(session, sessions, clock):
    w = await _world(session, clock)
    await complete_milestone(
        session,
        scope=await scope_for(session, w["supervisor"]),
        actor=Actor.of(w["supervisor"]),
        milestone_id=w["milestone"].id,
        clock=clock,
    )
    await session.commit()
    for day in (9, 14, 15, 16):
        await scan_once(sessions, clock=_at(2026, 12, day, 9, 0), tz=SHANGHAI)
    assert await _ms_rows(session) == []


async def test_a_reminder_queued_before_the_milestone_was_done_is_not_sent(
    session, sessions, clock
):
    w = await _world(session, clock)
    at = _at(2026, 12, 9, 9, 0)
    await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert await _ms_rows(session)
    await complete_milestone(
        session,
        scope=await scope_for(session, w["supervisor"]),
        actor=Actor.of(w["supervisor"]),
        milestone_id=w["milestone"].id,
        clock=at,
    )
    await session.commit()
    await _deliver(sessions, at)
    async with sessions() as s:
        rows = (await s.scalars(select(Notification).where(Notification.kind == "ms_remind"))).all()
    assert rows and {r.status for r in rows} == {"cancelled"}


async def test_a_cancelled_item_sends_nothing_for_its_milestones(session, sessions, clock):
    w = await _world(session, clock)
    item = await session.get_one(Item, w["item"].id)
    await cancel_item(session, item, actor=Actor.of(w["supervisor"]), clock=clock, reason="撤销")
    await session.commit()
    result = await scan_once(sessions, clock=_at(2026, 12, 15, 9, 0), tz=SHANGHAI)
    assert await _ms_rows(session) == [] and result.cleared >= 1
    next_at = await session.scalar(
        select(Milestone.next_action_at).where(Milestone.id == w["milestone"].id)
    )
    assert next_at is None


async def test_a_closed_item_sends_nothing_for_its_milestones(session, sessions, clock):
    w = await _world(session, clock)
    [lead] = await session.scalars(select(Assignment).where(Assignment.item_id == w["item"].id))
    await transition_assignment(
        session, lead, ItemState.CLOSED, actor=Actor.of(w["supervisor"]), clock=clock
    )
    await session.commit()
    assert (await session.get_one(Item, w["item"].id)).state == ItemState.CLOSED
    for day in (9, 14, 15):
        await scan_once(sessions, clock=_at(2026, 12, day, 9, 0), tz=SHANGHAI)
    assert await _ms_rows(session) == []


async def test_an_item_sent_back_takes_up_its_milestones_ladders_again(session, sessions, clock):
    w = await _world(session, clock)
    [lead] = await session.scalars(select(Assignment).where(Assignment.item_id == w["item"].id))
    actor = Actor.of(w["supervisor"])
    await transition_assignment(session, lead, ItemState.CLOSED, actor=actor, clock=clock)
    await session.commit()
    await scan_once(sessions, clock=clock, tz=SHANGHAI)  # clears the milestone's ladder
    item = await session.get_one(Item, w["item"].id)
    await reopen_item(
        session, item, reason="节点未落实", due_on=date(2027, 1, 29), actor=actor, clock=clock
    )
    await session.commit()
    await scan_once(sessions, clock=_at(2026, 12, 9, 9, 0), tz=SHANGHAI)
    assert {r[0] for r in await _ms_rows(session)} == {"ms_remind"}


async def test_a_rescan_writes_no_milestone_row_twice(session, sessions, clock):
    w = await _world(session, clock)
    at = _at(2026, 12, 9, 9, 0)
    await scan_once(sessions, clock=at, tz=SHANGHAI)
    before = await _ms_rows(session)
    await session.execute(
        update(Milestone)
        .where(Milestone.id == w["milestone"].id)
        .values(next_action_at=at.now(), last_step=None, last_step_at=None, ladder_due_on=None)
    )
    await session.commit()
    again = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert await _ms_rows(session) == before and again.milestones == 1


async def test_a_moved_milestone_date_starts_its_ladder_afresh(session, sessions, clock):
    w = await _world(session, clock)
    await scan_once(sessions, clock=_at(2026, 12, 9, 9, 0), tz=SHANGHAI)
    m = w["milestone"]
    at = _at(2026, 12, 10, 9, 0)
    await edit_milestone(
        session,
        scope=await scope_for(session, w["supervisor"]),
        actor=Actor.of(w["supervisor"]),
        milestone_id=m.id,
        spec=MilestoneSpec(m.name, date(2026, 12, 21), m.unit_id, m.owner_id, m.leader_id),
        clock=at,
    )
    await session.commit()
    await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert [r[0] for r in await _ms_rows(session)] == ["ms_remind", "ms_remind"]
    await scan_once(sessions, clock=_at(2026, 12, 16, 9, 0), tz=SHANGHAI)  # 21 Dec − 3
    reminded = await session.scalars(
        select(Notification.dedupe_key).where(Notification.kind == "ms_remind")
    )
    assert {k.split(":")[2] for k in reminded} == {"2026-12-09", "2026-12-16"}


async def _deliver(sessions, clock: FixedClock) -> None:
    await Deliverer(
        sessions,
        channels=registry(),
        renderer=Renderer(DbTemplateStore(sessions)),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    ).deliver_due()


@pytest.mark.parametrize(
    ("day", "locale", "words"),
    [
        (9, "zh", ("【节点提醒】", "完成项目招标", "2026年12月14日", "市发改委")),
        (14, "zh", ("【节点催办】", "今天", "完成项目招标")),
        (15, "zh", ("【节点逾期督办】", "责任领导", "李明")),
        (9, "en", ("Milestone reminder", "完成项目招标", "14 Dec 2026")),
    ],
)
async def test_milestone_messages_are_delivered_in_the_persons_language(
    session, sessions, clock, day, locale, words
):
    w = await _world(session, clock, locale=locale)
    at = _at(2026, 12, day, 9, 0)
    await scan_once(sessions, clock=at, tz=SHANGHAI)
    await _deliver(sessions, at)
    async with sessions() as s:
        rows = (
            await s.scalars(
                select(Notification).where(
                    Notification.kind.in_(MS_KINDS), Notification.recipient_id == w["owner"].id
                )
            )
        ).all()
    assert rows and {r.status for r in rows} == {"sent"}, [r.last_error for r in rows]
    for row in rows:
        for word in words:
            assert word in row.body_text, (row.channel, word, row.body_text)


async def test_the_item_timeline_lists_milestone_messages(session, sessions, clock):
    w = await _world(session, clock)
    await scan_once(sessions, clock=_at(2026, 12, 9, 9, 0), tz=SHANGHAI)
    entries = await item_timeline(
        session, scope=await scope_for(session, w["supervisor"]), item_id=w["item"].id
    )
    shown = {e.subject for e in entries if e.kind is EntryKind.NOTIFICATION}
    assert StepKind.MS_REMIND in shown


async def test_digests_group_milestone_steps_like_other_steps(session, sessions, clock):
    w = await _world(session, clock)
    policy = await session.scalar(
        select(Policy).where(Policy.source == Source.ANNUAL_TASK, Policy.urgent.is_(False))
    )
    assert policy is not None
    policy.digest_threshold = 1
    # A second item's reminder for the same person in the same window.
    other = await f.item(session, ref="年度〔2026〕2号", source=Source.ANNUAL_TASK,
                         received_on=date(2026, 11, 2), due_on=date(2026, 12, 16))  # fmt: skip
    unit = await session.get_one(Unit, w["milestone"].unit_id)
    a = await f.assignment(session, item=other, unit=unit, owner=w["owner"])
    await reschedule(session, a, clock=clock, tz=SHANGHAI)
    await session.commit()
    at = _at(2026, 12, 9, 9, 0)
    await scan_and_group()(sessions, clock=at, tz=SHANGHAI)
    await _deliver(sessions, at)
    async with sessions() as s:
        digest = await s.scalar(
            select(Notification).where(
                Notification.kind == "digest",
                Notification.recipient_id == w["owner"].id,
                Notification.channel == "telegram",
            )
        )
        grouped = (
            await s.scalars(select(Notification.status).where(Notification.kind == "ms_remind"))
        ).all()
    assert digest is not None and digest.status == "sent", digest and digest.last_error
    assert "节点提醒" in digest.body_text and "完成项目招标" in digest.body_text
    assert "年度〔2026〕2号" in digest.body_text
    assert set(grouped) == {"grouped"}
