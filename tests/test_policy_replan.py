"""Editing a policy re-plans the open assignments it governs at the next scan."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from models import Item, Notification, Policy, Role, Source
from notifier.scan import load_ladders, scan_once
from supervision.policy import ensure_default_policies, load_policy_for, pick_policy
from supervision.schedule import replan_policy, reschedule
from testing import SHANGHAI
from testing import factories as f


async def _open_assignment(sessions, clock, *, urgent: bool = False):
    async with sessions() as s, s.begin():
        await ensure_default_policies(s)
        unit = await f.unit(s)
        owner = await f.person(s, unit=unit, roles={Role.OWNER}, telegram_user_id=4242)
        item = await f.item(s, source=Source.DOCUMENT, urgent=urgent)
        a = await f.assignment(s, item=item, unit=unit, owner=owner)
        await reschedule(s, a, clock=clock)
    return a


async def _outbox(sessions) -> list[tuple[str, str]]:
    async with sessions() as s:
        rows = await s.execute(select(Notification.kind, Notification.channel))
        return sorted((kind, channel) for kind, channel in rows.all())


async def test_a_step_moved_earlier_fires_at_the_next_scan(sessions, clock):
    clock.set(datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI))  # 10 working days before due
    a = await _open_assignment(sessions, clock)
    await scan_once(sessions, clock=clock, tz=SHANGHAI)
    assert await _outbox(sessions) == []  # remind is at -5: not yet

    async with sessions() as s, s.begin():
        policy = await s.scalar(
            select(Policy).where(Policy.source == "document", Policy.urgent.is_(False))
        )
        assert policy is not None
        remind = next(step for step in policy.steps if step.kind == "remind")
        remind.offset_days = -10
        marked = await replan_policy(s, policy, clock=clock)
    assert marked == 1

    await scan_once(sessions, clock=clock, tz=SHANGHAI)
    assert await _outbox(sessions) == [("remind", "email"), ("remind", "telegram")]
    async with sessions() as s:
        item = await s.get(Item, a.item_id)
        assert item is not None and item.state == "open"


async def test_only_the_policys_own_items_are_marked(sessions, clock):
    await _open_assignment(sessions, clock, urgent=True)  # governed by the urgent policy
    async with sessions() as s, s.begin():
        normal = await s.scalar(
            select(Policy).where(Policy.source == "document", Policy.urgent.is_(False))
        )
        other = await s.scalar(
            select(Policy).where(Policy.source == "meeting", Policy.urgent.is_(True))
        )
        assert normal is not None and other is not None
        assert await replan_policy(s, normal, clock=clock) == 0
        assert await replan_policy(s, other, clock=clock) == 0
        urgent = await s.scalar(
            select(Policy).where(Policy.source == "document", Policy.urgent.is_(True))
        )
        assert urgent is not None
        assert await replan_policy(s, urgent, clock=clock) == 1


def test_policy_selection_rule():
    """Own source first, else the source-less one; urgent falls back to normal; id order."""
    options = [
        (None, False, "generic"),
        ("document", False, "document"),
        ("document", False, "document-2"),
        (None, True, "generic-urgent"),
    ]
    assert pick_policy(options, "document", False) == "document"
    assert pick_policy(options, "meeting", False) == "generic"
    assert pick_policy(options, "document", True) == "generic-urgent"
    assert pick_policy(options[:3], "document", True) == "document"  # no urgent one at all
    assert pick_policy([], "document", True) is None


async def test_the_scan_and_the_planner_pick_the_same_policy(sessions, clock):
    async with sessions() as s, s.begin():
        await ensure_default_policies(s)
        for source in Source:
            for urgent in (False, True):
                policy = await load_policy_for(s, source.value, urgent)
                assert policy is not None
                # What the scan picks from the ladders it loads is what the planner reads.
                picked = pick_policy(await load_ladders(s), source.value, urgent)
                assert picked is not None and picked.policy_id == policy.id
