"""Digests: many messages to one person in one send window go out as one."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from models import ItemState, Notification, Policy, Role
from notifier.channels.base import OutgoingMessage
from notifier.channels.telegram import keyboard_for
from notifier.context import ContextConfig, build_context
from notifier.digest import Candidate, plan_digests, scan_and_group
from notifier.messages import cause_gone
from notifier.templating import Renderer
from supervision.audit import Actor
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from supervision.importing import import_rows
from supervision.lifecycle import transition_assignment
from supervision.policy import ensure_default_policies
from supervision.schedule import reschedule
from supervision.tabular import read_table
from testing import SHANGHAI
from testing import factories as f

ACTOR = Actor.system("test")
DUE = date(2026, 12, 14)  # remind 7 Dec, overdue 15 Dec, escalate 17 Dec


def _sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def _rows(session, **where) -> list[Notification]:
    stmt = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Notification, name) == value)
    return list((await session.scalars(stmt.execution_options(populate_existing=True))).all())


async def _import_five(session, clock) -> None:
    await ensure_default_policies(session)
    for kind, text in (
        ("units", "code,name,parent_code\nFGW,省发展改革委,\n"),
        ("people", "name,email,unit,roles\n张伟,zhangwei@demo.cn,FGW,owner\n"),
        (
            "items",
            "ref,title,source,received_on,lead_unit,owner_email\n"
            + "".join(
                f"督〔2026〕{n}号,事项{n},领导批示,2026-11-02,FGW,zhangwei@demo.cn\n"
                for n in range(1, 6)
            ),
        ),
    ):
        result = await import_rows(
            session,
            kind,
            read_table(text.encode(), f"{kind}.csv"),
            dry_run=False,
            actor=ACTOR,
            clock=clock,
        )
        assert result.ok, result.errors
        await session.commit()


async def test_an_import_of_five_items_sends_one_digest(session, sessions, clock):
    await _import_five(session, clock)

    scan = scan_and_group()
    done = await scan(sessions, clock=clock, tz=SHANGHAI)
    assert done.scan.by_step == {"assign": 5}
    assert (done.digest.digests, done.digest.grouped) == (1, 5)
    pending = await _rows(session, status="pending")
    assert [(r.kind, r.channel, r.address) for r in pending] == [
        ("digest", "email", "zhangwei@demo.cn")
    ]
    digest = pending[0]
    notices = await _rows(session, kind="assign")
    assert [r.status for r in notices] == ["grouped"] * 5  # kept in the outbox and timeline
    assert digest.payload["digest"] == "assign"
    # in the order of their assignments (the scan's two lanes may write the rows in any order)
    by_assignment = sorted(notices, key=lambda r: (r.assignment_id or 0, r.id))
    assert digest.payload["members"] == [r.id for r in by_assignment]
    assert digest.not_before == clock.now()

    built = await build_context(
        session, digest, config=ContextConfig(), clock=clock, calendar=WorkCalendar()
    )
    assert built.context.digest is not None
    assert [e.ref for e in built.context.digest.entries] == [
        f"督〔2026〕{n}号" for n in range(1, 6)
    ]
    message = await Renderer().render("digest", "email", "zh", built.context)
    assert message.subject is not None and message.subject.startswith("【交办通知】5项督查事项")
    assert "本时段有5项督查事项交办给您" in message.text

    again = await scan(sessions, clock=clock, tz=SHANGHAI)
    assert again.digest.digests == 0 and len(await _rows(session, kind="digest")) == 1


async def test_a_single_new_item_gets_its_own_notice(session, sessions, clock):
    await ensure_default_policies(session)
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit, roles={Role.OWNER}, telegram_user_id=5)
    item = await f.item(session)
    a = await f.assignment(session, item=item, unit=unit, owner=owner)
    a.assigned_at = clock.now()
    await reschedule(session, a, clock=clock, tz=SHANGHAI)
    await session.commit()
    done = await scan_and_group()(sessions, clock=clock, tz=SHANGHAI)
    assert done.digest.digests == 0
    assert {r.kind for r in await _rows(session, status="pending")} == {"assign"}


async def _three_due(session, clock, *, threshold: int | None):
    """Three open items of one owner (and one unit principal), all due on DUE."""
    await ensure_default_policies(session)
    await session.execute(update(Policy).values(digest_threshold=threshold))
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit, roles={Role.OWNER}, telegram_user_id=7)
    principal = await f.person(session, unit=unit, roles={Role.PRINCIPAL}, telegram_user_id=8)
    assignments = []
    for _ in range(3):
        item = await f.item(session, due_on=DUE)
        a = await f.assignment(session, item=item, unit=unit, owner=owner)
        a.created_at = clock.now()
        a.last_periodic_at = _sh(2026, 12, 10, 9, 0)  # no periodic request in the way
        await reschedule(session, a, clock=clock, tz=SHANGHAI)
        assignments.append(a)
    await session.commit()
    return owner, principal, assignments


async def test_a_person_over_the_threshold_gets_one_daily_digest(session, sessions, clock):
    owner, _, assignments = await _three_due(session, clock, threshold=2)
    at = FixedClock(_sh(2026, 12, 7, 8, 30))
    done = await scan_and_group()(sessions, clock=at, tz=SHANGHAI)
    assert done.scan.by_step == {"remind": 3}
    assert done.digest.by_kind == {"daily": 2}  # one on Telegram, one by e-mail
    pending = await _rows(session, status="pending")
    assert [(r.kind, r.channel, r.recipient_id) for r in pending] == [
        ("digest", "telegram", owner.id),
        ("digest", "email", owner.id),
    ]
    chat = pending[0]
    assert chat.payload["digest"] == "daily"
    assert chat.payload["buttons"] == [[n, a.id] for n, a in enumerate(assignments, start=1)]
    keyboard = keyboard_for(
        OutgoingMessage(
            notification_id=chat.id,
            kind=chat.kind,
            channel=chat.channel,
            address=chat.address,
            text="",
            payload=chat.payload,
        )
    )
    assert keyboard is not None
    assert [[b.text for b in row] for row in keyboard.inline_keyboard] == [
        [f"{n}·进展", f"{n}·办结", f"{n}·延期"] for n in (1, 2, 3)
    ]
    built = await build_context(
        session, chat, config=ContextConfig(), clock=at, calendar=WorkCalendar()
    )
    text = (await Renderer().render("digest", "telegram", "zh", built.context)).text
    assert "【每日待办】" in text and "本时段您有3条督办消息" in text
    assert text.count("[提醒]") == 3 and "点击下方与序号对应的按钮" in text


async def test_messages_up_to_the_threshold_go_one_by_one(session, sessions, clock):
    await _three_due(session, clock, threshold=3)
    done = await scan_and_group()(sessions, clock=FixedClock(_sh(2026, 12, 7, 8, 30)), tz=SHANGHAI)
    assert done.digest.digests == 0
    assert [r.kind for r in await _rows(session, status="pending")] == ["remind"] * 6


async def test_without_a_threshold_there_is_no_daily_digest(session, sessions, clock):
    await _three_due(session, clock, threshold=None)
    done = await scan_and_group()(sessions, clock=FixedClock(_sh(2026, 12, 7, 8, 30)), tz=SHANGHAI)
    assert done.digest.digests == 0


async def test_escalations_to_a_principal_are_grouped_the_same_way(session, sessions, clock):
    _, principal, _ = await _three_due(session, clock, threshold=2)
    late = FixedClock(_sh(2026, 12, 17, 9, 0))  # the 升级督办 of all three is due
    done = await scan_and_group()(sessions, clock=late, tz=SHANGHAI)
    assert done.scan.by_step == {"escalate": 3}
    mine = await _rows(session, recipient_id=principal.id, status="pending")
    assert [(r.kind, r.channel) for r in mine] == [("digest", "telegram"), ("digest", "email")]
    assert mine[0].payload["buttons"] == []  # a principal reads; the owner acts


async def test_a_digest_of_closed_work_is_not_sent(session, sessions, clock):
    _, _, assignments = await _three_due(session, clock, threshold=1)
    at = FixedClock(_sh(2026, 12, 7, 8, 30))
    await scan_and_group()(sessions, clock=at, tz=SHANGHAI)
    [chat, _] = await _rows(session, kind="digest")
    for a in assignments[:2]:
        await transition_assignment(session, a, ItemState.CANCELLED, actor=ACTOR, clock=at)
    await session.commit()
    built = await build_context(
        session, chat, config=ContextConfig(), clock=at, calendar=WorkCalendar()
    )
    assert built.context.digest is not None
    assert [e.number for e in built.context.digest.entries] == [3]  # numbers stay the buttons'
    assert cause_gone(chat, built) is None
    await transition_assignment(session, assignments[2], ItemState.CANCELLED, actor=ACTOR, clock=at)
    await session.commit()
    built = await build_context(
        session, chat, config=ContextConfig(), clock=at, calendar=WorkCalendar()
    )
    assert cause_gone(chat, built) is not None


def _candidate(n: int, *, person: int = 1, kind: str = "assign", day: int = 7, limit=None):
    return Candidate(
        id=n,
        kind=kind,
        channel="telegram",
        recipient_id=person,
        webhook_id=None,
        assignment_id=100 + n,
        item_id=200 + n,
        not_before=_sh(2026, 12, day, 8, 30),
        address="1",
        locale="zh",
        roles=("owner",),
        threshold=limit,
    )


def test_digests_are_per_person_channel_and_send_window():
    plans = plan_digests(
        [
            _candidate(1),
            _candidate(2),
            _candidate(3, person=2),  # alone: its own notice
            _candidate(4, day=8),  # next window
            _candidate(5, kind="remind"),  # not a notice, no threshold: on its own
        ],
        SHANGHAI,
    )
    assert [(p.kind, [c.id for c in p.members]) for p in plans] == [("assign", [1, 2])]


def test_the_lowest_threshold_among_a_persons_messages_applies():
    rows = [_candidate(1, kind="remind", limit=5), _candidate(2, kind="urge", limit=1)]
    [plan] = plan_digests(rows, SHANGHAI)
    assert plan.kind == "daily" and [c.id for c in plan.members] == [1, 2]
    assert plan_digests([_candidate(1, kind="remind", limit=1)], SHANGHAI) == []


async def test_an_item_is_never_in_two_digests(session, sessions, clock):
    await _import_five(session, clock)
    await scan_and_group()(sessions, clock=clock, tz=SHANGHAI)
    later = FixedClock(clock.now() + timedelta(minutes=5))
    done = await scan_and_group()(sessions, clock=later, tz=SHANGHAI)
    assert (done.digest.read, done.digest.digests) == (0, 0)  # a digest is not folded again
    assert len(await _rows(session, kind="digest")) == 1


async def test_a_failed_chat_digest_does_not_add_a_second_email_digest(session, sessions, clock):
    from notifier.routing import Router

    owner, _, _ = await _three_due(session, clock, threshold=2)
    at = FixedClock(_sh(2026, 12, 7, 8, 30))
    await scan_and_group()(sessions, clock=at, tz=SHANGHAI)
    chat, mail = await _rows(session, kind="digest")
    assert chat.dedupe_key.rsplit(":", 1)[0] == mail.dedupe_key.rsplit(":", 1)[0]
    assert chat.dedupe_key.endswith(f":p{owner.id}:telegram")
    # the e-mail digest is there
    assert await Router(lambda kind: True).fall_back(session, chat, at.now()) is None
