"""The scan: due steps become outbox rows once, in the send window, to the right people."""

from __future__ import annotations

import asyncio
from datetime import date, datetime

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Session, selectinload

from duban.cli import main
from models import (
    Assignment,
    AssignmentRole,
    AuditEvent,
    Base,
    GroupWebhook,
    Item,
    ItemState,
    LadderStep,
    Notification,
    Policy,
    Role,
)
from models.db import create_engine, create_sessionmaker
from notifier.recipients import Recipient, RecipientDirectory, RecipientNeed
from notifier.scan import scan_once
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.lifecycle import transition_assignment
from supervision.outbox import notify_person, notify_unit_groups, person_addresses
from supervision.policy import ensure_default_policies
from supervision.schedule import reschedule
from testing import SHANGHAI
from testing import factories as f
from web.views.timeline import timeline

# Runs on SQLite and PostgreSQL: the scan claims with SKIP LOCKED and writes through
# a PostgreSQL or a generic writer.
pytestmark = pytest.mark.dialects

DUE = date(2026, 12, 14)  # remind 7 Dec, urge 11 Dec, overdue 15 Dec, escalate 17 Dec


def _sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def _world(session, clock, *, n: int = 1, telegram: bool = True):
    """Default policies, one unit with its people, and ``n`` open assignments due on DUE."""
    await ensure_default_policies(session)
    unit = await f.unit(session)
    owner = await f.person(
        session, unit=unit, roles={Role.OWNER}, telegram_user_id=1001 if telegram else None
    )
    assignments = []
    for _ in range(n):
        item = await f.item(session, due_on=DUE)
        a = await f.assignment(session, item=item, unit=unit, owner=owner)
        a.created_at = clock.now()
        await reschedule(session, a, clock=clock, tz=SHANGHAI)
        assignments.append(a)
    await session.commit()
    return unit, owner, assignments


async def _rows(session):
    return (await session.scalars(select(Notification).order_by(Notification.id))).all()


async def test_due_step_is_written_once_and_the_next_is_planned(session, sessions, clock):
    _, owner, [a] = await _world(session, clock)
    a.last_periodic_at = _sh(2026, 12, 4, 9, 0)  # keep the periodic request out of the way
    await reschedule(session, a, clock=clock, tz=SHANGHAI)
    await session.commit()
    assert a.next_action_at == _sh(2026, 12, 7, 8, 30)

    early = await scan_once(sessions, clock=FixedClock(_sh(2026, 12, 7, 8, 0)), tz=SHANGHAI)
    assert (early.claimed, early.rows_written) == (0, 0)

    at = FixedClock(_sh(2026, 12, 7, 8, 30))
    result = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert (result.claimed, result.fired, result.rows_written, result.skipped) == (1, 1, 2, 0)
    assert result.by_step == {"remind": 1}
    rows = await _rows(session)
    assert [(r.kind, r.recipient_id, r.channel, r.address) for r in rows] == [
        ("remind", owner.id, "telegram", "1001"),
        ("remind", owner.id, "email", owner.email),
    ]
    assert rows[0].dedupe_key == f"a{a.id}:remind:2026-12-07:p{owner.id}:telegram"
    assert rows[0].not_before == at.now() and rows[0].status == "pending"
    assert rows[0].payload == {
        "step": "remind",
        "template": "remind",
        "occurrence": "2026-12-07",
        "due_on": "2026-12-14",
        "roles": ["owner"],
    }
    assert rows[0].assignment_id == a.id and rows[0].item_id == a.item_id
    assert rows[0].thread_key == f"item-{a.item_id}"

    fresh = (
        await session.scalars(select(Assignment).execution_options(populate_existing=True))
    ).one()
    assert fresh.last_step == "remind" and fresh.ladder_due_on == DUE
    assert fresh.next_action_at == _sh(2026, 12, 11, 8, 30)  # urge
    # The rows record the step; an audit event is written only when they cannot tell it all.
    events = await session.scalars(select(AuditEvent).where(AuditEvent.action == "ladder_step"))
    assert events.all() == []

    again = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert (again.claimed, again.rows_written) == (0, 0)
    assert len(await _rows(session)) == 2


async def test_a_rescan_after_reset_writes_no_duplicates(session, sessions, clock):
    _, _, [a] = await _world(session, clock)
    at = FixedClock(_sh(2026, 12, 7, 9, 0))
    first = await scan_once(sessions, clock=at, tz=SHANGHAI)
    # Someone resets the ladder (e.g. a crash between two scans in an older version).
    a.ladder_due_on = a.last_step = a.last_step_at = a.last_periodic_at = None
    a.next_action_at = at.now()
    session.add(a)
    await session.commit()
    second = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert second.fired == first.fired and second.rows_written == 0
    assert len(await _rows(session)) == first.rows_written


async def test_a_batch_with_one_existing_key_still_writes_the_new_rows(session, sessions, clock):
    """On PostgreSQL the rows are copied in; one existing key sends the batch down the path
    that skips existing keys, which must still write every new row and count per step."""
    unit, owner, [old] = await _world(session, clock)
    at = FixedClock(_sh(2026, 12, 7, 9, 0))
    first = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert first.rows_written == 2  # the owner's chat and e-mail
    old.ladder_due_on = old.last_step = old.last_step_at = old.last_periodic_at = None
    old.next_action_at = at.now()
    fresh = await f.assignment(
        session, item=await f.item(session, due_on=DUE), unit=unit, owner=owner
    )
    fresh.created_at = clock.now()
    await reschedule(session, fresh, clock=clock, tz=SHANGHAI)
    await session.commit()

    second = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert (second.claimed, second.fired, second.rows_written) == (2, 2, 2)
    rows = await _rows(session)
    assert [(r.assignment_id, r.channel) for r in rows] == [
        (old.id, "telegram"), (old.id, "email"), (fresh.id, "telegram"), (fresh.id, "email")
    ]  # fmt: skip
    # The events (the remind stands in for the periodic request) carry the new rows per step.
    events = await session.scalars(
        select(AuditEvent).where(AuditEvent.action == "ladder_step").order_by(AuditEvent.id)
    )
    assert [(e.entity_id, e.detail["rows"]) for e in events] == [
        (old.id, 2),  # the first scan
        (fresh.id, 2),
        (old.id, 0),  # its keys existed
    ]


async def test_a_step_that_writes_no_row_leaves_an_audit_event(session, sessions, clock):
    """No reachable recipient: nothing in the outbox, so the audit log says the step fired."""
    _, owner, [a] = await _world(session, clock, telegram=False)
    owner.email = None
    a.last_periodic_at = _sh(2026, 12, 4, 9, 0)
    await reschedule(session, a, clock=clock, tz=SHANGHAI)
    await session.commit()
    at = FixedClock(_sh(2026, 12, 7, 9, 0))
    result = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert (result.fired, result.rows_written) == (1, 0)
    assert await _rows(session) == []
    [event] = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "ladder_step"))
    ).all()
    assert (event.entity, event.entity_id, event.actor_label, event.at) == (
        "assignment",
        a.id,
        "scan",
        at.now(),
    )
    assert event.detail == {
        "step": "remind",
        "occurrence": "2026-12-07",
        "due_on": "2026-12-14",
        "rows": 0,
    }


async def test_the_item_timeline_lists_the_step_rows_of_its_own_item(session, sessions, clock):
    """The timeline reads the outbox by item id, which every row about an assignment carries."""
    _, owner, [a, other] = await _world(session, clock, n=2)
    await scan_once(sessions, clock=FixedClock(_sh(2026, 12, 7, 9, 0)), tz=SHANGHAI)
    session.expunge_all()
    item = await session.scalar(
        select(Item)
        .where(Item.id == a.item_id)
        .options(selectinload(Item.assignments).selectinload(Assignment.unit))
    )
    assert item is not None
    entries = [e for e in await timeline(session, item) if e.kind == "notification"]
    # step, status, person and channel in the glossary's words, one line per channel
    assert sorted(e.text for e in entries) == [
        f"提醒待发送：{owner.name}（Telegram）",
        f"提醒待发送：{owner.name}（电子邮件）",
    ]
    assert other.item_id != a.item_id  # the other item's two rows are not listed


async def test_rows_match_keys_written_by_notify_person(session, sessions, clock):
    _, owner, [a] = await _world(session, clock)
    at = FixedClock(_sh(2026, 12, 7, 9, 0))
    await notify_person(
        session,
        person=owner,
        kind="remind",
        key=f"a{a.id}:remind:2026-12-07",
        channels=["chat"],
        not_before=at.now(),
        now=at.now(),
    )
    await session.commit()
    result = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert result.by_step.get("remind") == 1
    keys = [r.dedupe_key for r in await _rows(session) if r.kind == "remind"]
    assert sorted(keys) == sorted(
        [
            f"a{a.id}:remind:2026-12-07:p{owner.id}:telegram",
            f"a{a.id}:remind:2026-12-07:p{owner.id}:email",
        ]
    )


async def test_closed_and_paused_assignments_produce_nothing(session, sessions, clock):
    _, _, assignments = await _world(session, clock, n=3)
    closed, cancelled, paused = assignments
    closed.state = ItemState.CLOSED.value  # stray next_action_at left by a bad writer
    cancelled.state = ItemState.CANCELLED.value
    paused.state = ItemState.COMPLETION_REQUESTED.value
    await session.commit()
    result = await scan_once(sessions, clock=FixedClock(_sh(2026, 12, 21, 9, 0)), tz=SHANGHAI)
    assert (result.claimed, result.cleared, result.fired, result.rows_written) == (3, 3, 0, 0)
    for a in assignments:
        await session.refresh(a)
        assert a.next_action_at is None
    assert await _rows(session) == []


async def test_a_co_unit_gets_no_escalation_after_the_item_closes(session, sessions, clock):
    _, _, [lead] = await _world(session, clock)
    co_unit = await f.unit(session)
    co_owner = await f.person(session, unit=co_unit, roles={Role.OWNER}, telegram_user_id=1002)
    item = await session.get_one(Item, lead.item_id)
    co = await f.assignment(
        session, item=item, unit=co_unit, owner=co_owner, role=AssignmentRole.CO
    )
    co.created_at = clock.now()
    await reschedule(session, co, clock=clock, tz=SHANGHAI)
    await session.commit()
    assert co.next_action_at is not None
    await transition_assignment(
        session, lead, ItemState.CLOSED, actor=Actor.system("test"), clock=clock
    )
    await session.commit()
    # Past the 逾期督办 (15 Dec) and 升级督办 (17 Dec) steps of the deadline.
    result = await scan_once(sessions, clock=FixedClock(_sh(2026, 12, 18, 9, 0)), tz=SHANGHAI)
    assert (result.claimed, result.rows_written) == (0, 0)
    assert [r for r in await _rows(session) if r.assignment_id == co.id] == []


async def test_outside_the_window_rows_wait_for_the_next_opening(session, sessions, clock):
    await _world(session, clock)
    friday_night = FixedClock(_sh(2026, 12, 11, 20, 0))  # missed remind + urge
    result = await scan_once(sessions, clock=friday_night, tz=SHANGHAI)
    assert result.by_step == {"urge": 1} and result.skipped == 2  # remind; periodic
    rows = await _rows(session)
    assert {r.not_before for r in rows} == {_sh(2026, 12, 14, 8, 30)}  # Monday morning
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.detail["step"].as_string() == "urge")
    )
    assert event is not None and event.detail["skipped"] == ["remind", "periodic"]
    assert event.detail["rows"] == len(rows) == 2  # sent, and the skips explained


async def test_step_that_ignores_the_window_goes_at_once(session, sessions, clock):
    await _world(session, clock)
    for step in (await session.scalars(select(LadderStep))).all():
        step.ignore_send_window = step.kind == "urge"
    await session.commit()
    friday_night = FixedClock(_sh(2026, 12, 11, 20, 0))
    await scan_once(sessions, clock=friday_night, tz=SHANGHAI)
    rows = await _rows(session)
    by_kind = {r.kind: r.not_before for r in rows}
    assert by_kind == {"urge": friday_night.now()}


async def test_group_robots_get_the_step_when_it_names_group(session, sessions, clock):
    unit, _, [a] = await _world(session, clock)
    hook = GroupWebhook(
        name="单位群", kind="wecom", url="https://example.invalid/k", unit_id=unit.id
    )
    off = GroupWebhook(
        name="停用", kind="dingtalk", url="https://example.invalid/d", unit_id=unit.id, active=False
    )
    session.add_all([hook, off])
    for step in (await session.scalars(select(LadderStep))).all():
        if step.kind == "remind":
            step.channels = ["email", "group"]
    await session.commit()
    await scan_once(sessions, clock=FixedClock(_sh(2026, 12, 7, 9, 0)), tz=SHANGHAI)
    rows = [r for r in await _rows(session) if r.kind == "remind"]
    assert sorted((r.channel, r.webhook_id) for r in rows) == [("email", None), ("wecom", hook.id)]
    group = next(r for r in rows if r.webhook_id)
    assert group.dedupe_key == f"a{a.id}:remind:2026-12-07:w{hook.id}" and group.address is None


async def test_robots_hear_only_their_steps_and_the_leadership_every_unit(session, sessions, clock):
    unit, _, _ = await _world(session, clock)
    late = GroupWebhook(name="只收逾期", kind="wecom", url="https://example.invalid/l",
                        unit_id=unit.id, steps="overdue,escalate")  # fmt: skip
    lead = GroupWebhook(name="领导群", kind="dingtalk", url="https://example.invalid/d",
                        unit_id=None, scope="leadership", steps="remind")  # fmt: skip
    stray = GroupWebhook(name="无主", kind="feishu", url="https://example.invalid/f",
                         unit_id=None, scope="unit")  # fmt: skip
    session.add_all([late, lead, stray])
    for step in (await session.scalars(select(LadderStep))).all():
        if step.kind == "remind":
            step.channels = ["group"]
    await session.commit()
    await scan_once(sessions, clock=FixedClock(_sh(2026, 12, 7, 9, 0)), tz=SHANGHAI)
    rows = [r for r in await _rows(session) if r.kind == "remind"]
    assert [(r.channel, r.webhook_id) for r in rows] == [("dingtalk", lead.id)]


async def test_group_rows_match_keys_written_by_notify_unit_groups(session, sessions, clock):
    """The scan's bulk insert and supervision.outbox share one key space for robots too."""
    unit, _, [a] = await _world(session, clock)
    hook = GroupWebhook(
        name="单位群", kind="feishu", url="https://example.invalid/f", unit_id=unit.id
    )
    session.add(hook)
    for step in (await session.scalars(select(LadderStep))).all():
        if step.kind == "remind":
            step.channels = ["group"]
    await session.flush()
    at = FixedClock(_sh(2026, 12, 7, 9, 0))
    [queued] = await notify_unit_groups(
        session, unit_id=unit.id, kind="remind", key=f"a{a.id}:remind:2026-12-07",
        not_before=at.now(), now=at.now(), assignment_id=a.id, item_id=a.item_id,
    )  # fmt: skip
    await session.commit()
    result = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert result.by_step.get("remind") == 1 and result.rows_written == 0
    rows = [r for r in await _rows(session) if r.kind == "remind"]
    assert [(r.id, r.dedupe_key) for r in rows] == [
        (queued, f"a{a.id}:remind:2026-12-07:w{hook.id}")
    ]


async def test_batches_cover_everything_due(session, sessions, clock):
    await _world(session, clock, n=5)
    result = await scan_once(
        sessions, clock=FixedClock(_sh(2026, 12, 7, 9, 0)), tz=SHANGHAI, batch=2
    )
    # SQLite: 2 + 2 + 1. PostgreSQL: two lanes, each ending on a batch short of 2 rows, so
    # two full batches and two short ones (1 and 0 rows).
    lanes = 2 if session.bind.dialect.name == "postgresql" else 1
    assert result.batches == 2 + lanes and result.claimed == 5
    assert result.by_step == {"remind": 5}
    with pytest.raises(ValueError, match="batch"):
        await scan_once(sessions, clock=clock, tz=SHANGHAI, batch=0)


async def test_urgent_items_without_an_urgent_policy_use_the_normal_one(session, sessions, clock):
    await ensure_default_policies(session)
    for policy in (await session.scalars(select(Policy).where(Policy.urgent))).all():
        await session.delete(policy)
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit, telegram_user_id=77)
    item = await f.item(session, due_on=DUE, urgent=True)
    a = await f.assignment(session, item=item, unit=unit, owner=owner)
    a.created_at = clock.now()
    a.last_periodic_at = _sh(2026, 12, 4, 9, 0)
    assert await reschedule(session, a, clock=clock) == _sh(2026, 12, 7, 8, 30)
    await session.commit()


async def test_recipients_directory_resolves_roles(session, clock):
    unit = await f.unit(session)
    other = await f.unit(session)
    owner = await f.person(session, unit=unit, roles={Role.OWNER, Role.LIAISON})
    liaison = await f.person(session, unit=unit, roles={Role.LIAISON})
    await f.person(session, unit=other, roles={Role.LIAISON})
    gone = await f.person(session, unit=unit, roles={Role.LIAISON})
    gone.active = False
    unit_leader = await f.person(session, unit=unit, roles={Role.LEADER})
    named_leader = await f.person(session, unit=other, roles={Role.LEADER})
    principal = await f.person(session, unit=unit, roles={Role.PRINCIPAL})
    sup = await f.person(session, roles={Role.SUPERVISOR})
    await session.commit()
    roles = ("owner", "liaison", "leader", "principal", "supervisors")
    with_leader = RecipientNeed(unit.id, owner.id, named_leader.id, roles)
    without_leader = RecipientNeed(unit.id, None, None, ("leader",))
    directory = await RecipientDirectory.load(session, [with_leader, without_leader])
    got = [(r.id, rs) for r, rs in directory.resolve(with_leader)]
    assert got == [
        (owner.id, ("owner", "liaison")),
        (liaison.id, ("liaison",)),
        (named_leader.id, ("leader",)),
        (principal.id, ("principal",)),
        (sup.id, ("supervisors",)),
    ]
    assert [r.id for r, _ in directory.resolve(without_leader)] == [unit_leader.id]
    named_leader.active = False  # an inactive named leader: the unit's leaders stand in
    await session.commit()
    directory = await RecipientDirectory.load(session, [with_leader])
    leaders = [r.id for r, rs in directory.resolve(with_leader) if "leader" in rs]
    assert leaders == [unit_leader.id]


def test_recipient_addresses_follow_step_channels():
    r = Recipient(id=1, locale="en", email="a@b.cn", telegram_chat_id=5)
    assert person_addresses(r, ["chat", "email", "group"]) == [
        ("telegram", "5"),
        ("email", "a@b.cn"),
    ]
    bare = Recipient(id=2, locale="zh", email=None, telegram_chat_id=None)
    assert person_addresses(bare, ["chat", "email"]) == []


async def test_two_concurrent_scans_never_duplicate(pg_engine, clock):
    sessions = create_sessionmaker(pg_engine)
    async with sessions() as session:
        await _world(session, clock, n=40)
    at = FixedClock(_sh(2026, 12, 7, 9, 0))
    first, second = await asyncio.gather(
        scan_once(sessions, clock=at, tz=SHANGHAI, batch=7),
        scan_once(sessions, clock=at, tz=SHANGHAI, batch=7),
    )
    assert first.claimed + second.claimed == 40
    assert first.fired + second.fired == 40
    async with sessions() as session:
        total = await session.scalar(select(func.count()).select_from(Notification))
        distinct = await session.scalar(select(func.count(func.distinct(Notification.dedupe_key))))
        per_assignment = (
            await session.execute(
                select(Notification.assignment_id, func.count())
                .group_by(Notification.assignment_id)
                .having(func.count() != 2)
            )
        ).all()
        assignments = await session.scalar(
            select(func.count(func.distinct(Notification.assignment_id)))
        )
    assert total == distinct == 80 and per_assignment == [] and assignments == 40


async def test_two_concurrent_scans_on_sqlite_wait_for_each_other(sqlite_engine, clock):
    sessions = create_sessionmaker(sqlite_engine)
    async with sessions() as session:
        await _world(session, clock, n=12)
    at = FixedClock(_sh(2026, 12, 7, 9, 0))
    results = await asyncio.gather(
        *(scan_once(sessions, clock=at, tz=SHANGHAI, batch=5) for _ in range(3))
    )
    assert sum(r.fired for r in results) == 12  # each assignment's remind, once
    assert sum(r.claimed for r in results) == 12
    async with sessions() as session:
        rows = (await session.execute(select(Notification.assignment_id, Notification.kind))).all()
    assert len(rows) == 24 and {kind for _, kind in rows} == {"remind"}
    assert len({assignment_id for assignment_id, _ in rows}) == 12


def _cli_db(tmp_path, clock) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path}/scan.db"

    async def build():
        engine = create_engine(url)
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with create_sessionmaker(engine)() as session:
            await _world(session, clock)
        await engine.dispose()

    asyncio.run(build())
    return url


def test_cli_scan_once_with_now(tmp_path, monkeypatch, capsys, clock):
    monkeypatch.setenv("DUBAN_DATABASE_URL", _cli_db(tmp_path, clock))
    assert main(["scan", "--once", "--now", "2026-12-07T09:00"]) == 0
    out = capsys.readouterr().out
    assert "scan at 2026-12-07T09:00:00+08:00" in out and "remind=1" in out
    assert main(["scan", "--once", "--now", "2026-12-07T01:00:00+00:00"]) == 0
    assert "claimed=0" in capsys.readouterr().out  # same instant, nothing twice


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["scan", "--once", "--now", "next tuesday"], "not an ISO date-time"),
        (["scan"], "pass --once"),
        (["scan", "--once", "--batch", "0"], "--batch"),
    ],
)
def test_cli_scan_bad_input_is_one_line(tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/none.db")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.strip().count("\n") == 0
    assert not (tmp_path / "none.db").exists() or (tmp_path / "none.db").stat().st_size == 0


async def test_a_failed_lane_stops_the_other_and_the_scan_reports_it(pg_engine, clock):
    """Two lanes on PostgreSQL: when one batch fails, the other lane is cancelled (nothing
    keeps running after scan_once returns) and the error reaches the caller; the failed
    batch's transaction is rolled back, so its assignments are still due."""
    sessions = create_sessionmaker(pg_engine)
    async with sessions() as session:
        await _world(session, clock, n=6)

    class SecondCommitFails(Session):
        """A session whose second commit (the second batch's) fails after its writes."""

        commits = 0

    def fail_the_second(session: Session) -> None:
        SecondCommitFails.commits += 1
        if SecondCommitFails.commits == 2:
            raise RuntimeError("database went away")

    event.listen(SecondCommitFails, "before_commit", fail_the_second)
    failing = async_sessionmaker(
        pg_engine, expire_on_commit=False, sync_session_class=SecondCommitFails
    )
    at = FixedClock(_sh(2026, 12, 7, 9, 0))
    before = asyncio.all_tasks()
    with pytest.raises(RuntimeError, match="went away"):
        await scan_once(failing, clock=at, tz=SHANGHAI, batch=2)
    lanes = asyncio.all_tasks() - before
    assert lanes == set()  # none left running
    async with sessions() as session:
        written = await session.scalar(select(func.count()).select_from(Notification))
        still_due = Assignment.next_action_at <= at.now()
        due = await session.scalar(select(func.count()).select_from(Assignment).where(still_due))
    # The failed batch (and any the cancel cut short) rolled back whole: its assignments are
    # still due and none of their rows exists; every advanced one wrote its two rows.
    assert due >= 2 and written == 2 * (6 - due)
    await scan_once(sessions, clock=at, tz=SHANGHAI, batch=2)
    async with sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(Notification))
        keys = await session.scalar(select(func.count(func.distinct(Notification.dedupe_key))))
    assert rows == keys == 12  # each assignment's remind to the owner's chat and e-mail, once
