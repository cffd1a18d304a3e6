"""Outbox rows are unique per key; the send window defers to the next opening."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select, update

from models import Notification, Role
from supervision.calendar import WorkCalendar
from supervision.outbox import add, due_at, due_clause, first_due_at, next_send_time, notify_person
from testing import SHANGHAI
from testing import factories as f

# Runs on SQLite and PostgreSQL: the outbox insert is each dialect's ON CONFLICT DO NOTHING.
pytestmark = pytest.mark.dialects

CAL = WorkCalendar()


def _sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def _window(at: datetime) -> datetime:
    return next_send_time(at, tz=SHANGHAI, start=time(8, 30), end=time(18, 0), calendar=CAL)


def test_send_window():
    assert _window(_sh(2026, 11, 2, 9, 0)) == _sh(2026, 11, 2, 9, 0)  # Monday morning
    assert _window(_sh(2026, 11, 2, 7, 0)) == _sh(2026, 11, 2, 8, 30)  # too early
    assert _window(_sh(2026, 11, 6, 19, 0)) == _sh(2026, 11, 9, 8, 30)  # Friday night
    assert _window(_sh(2026, 9, 30, 18, 30)) == _sh(2026, 10, 8, 8, 30)  # National Day
    assert _window(_sh(2026, 10, 10, 10, 0)) == _sh(2026, 10, 10, 10, 0)  # 调休 Saturday


async def test_rows_are_unique_per_key(session, clock):
    unit = await f.unit(session)
    p = await f.person(session, unit=unit, roles={Role.OWNER}, telegram_user_id=555)
    ids = await notify_person(
        session,
        person=p,
        kind="remind",
        key="a1:remind:0",
        channels=["chat", "email"],
        not_before=clock.now(),
        now=clock.now(),
    )
    again = await notify_person(
        session,
        person=p,
        kind="remind",
        key="a1:remind:0",
        channels=["chat", "email"],
        not_before=clock.now(),
        now=clock.now(),
    )
    await session.commit()
    assert len(ids) == 2 and again == []
    rows = (await session.scalars(select(Notification).order_by(Notification.id))).all()
    assert [(r.channel, r.address) for r in rows] == [("telegram", "555"), ("email", p.email)]
    assert rows[0].created_at.tzinfo is not None
    assert {r.created_at for r in rows} == {clock.now()}  # the caller's clock, not the wall's
    assert (
        await add(
            session,
            dedupe_key=rows[0].dedupe_key,
            kind="remind",
            channel="log",
            not_before=clock.now(),
            now=clock.now(),
        )
        is None
    )
    assert await session.scalar(select(func.count()).select_from(Notification)) == 2


async def test_unreachable_person_gets_nothing(session, clock):
    p = await f.person(session)
    p.email = None
    ids = await notify_person(
        session,
        person=p,
        kind="remind",
        key="k",
        channels=["chat", "email"],
        not_before=clock.now(),
        now=clock.now(),
    )
    assert ids == []


def test_a_row_is_due_at_the_later_of_its_window_and_its_retry():
    window, retry = _sh(2026, 11, 2, 9, 0), _sh(2026, 11, 2, 9, 5)
    assert due_at("pending", window, None) == window
    assert due_at("pending", window, retry) == retry
    assert due_at("pending", retry, window) == retry  # a retry set before the window moved
    assert due_at("sending", window, retry) == retry  # the lease
    for settled in ("sent", "failed", "cancelled"):
        assert due_at(settled, window, retry) is None


async def test_the_due_clause_and_the_first_due_moment_agree(session, clock):
    now = clock.now()
    minute = timedelta(minutes=1)
    rows = {
        "first try, due": ("pending", now - minute, None),
        "first try, later": ("pending", now + minute, None),
        "retry, due": ("pending", now - 2 * minute, now - minute),
        "retry, later": ("pending", now - 2 * minute, now + 2 * minute),
        "lease lapsed": ("sending", now - 5 * minute, now - 3 * minute),
        "lease running": ("sending", now - 5 * minute, now + minute),
        "sent": ("sent", now - 9 * minute, None),
    }
    for key, (status, not_before, next_at) in rows.items():
        await add(
            session, dedupe_key=key, kind="remind", channel="email", not_before=not_before, now=now
        )
        await session.execute(
            update(Notification)
            .where(Notification.dedupe_key == key)
            .values(status=status, next_attempt_at=next_at)
        )
    due = set(await session.scalars(select(Notification.dedupe_key).where(due_clause(now))))
    assert due == {"first try, due", "retry, due", "lease lapsed"}
    assert due == {k for k, (s, nb, na) in rows.items() if (d := due_at(s, nb, na)) and d <= now}
    assert await first_due_at(session, by=now) == now - 3 * minute  # the lapsed lease
    assert await first_due_at(session) == now - 3 * minute
    later = set(
        await session.scalars(
            select(Notification.dedupe_key).where(due_clause(now, pending_by=now + 2 * minute))
        )
    )
    assert later == due | {"first try, later", "retry, later"}


def test_chat_reaches_every_bound_chat_app() -> None:
    from types import SimpleNamespace

    from supervision.outbox import person_addresses

    apps = {"dingtalk_userid": None, "feishu_user_id": None, "channel_prefs": None}
    both = SimpleNamespace(email="a@b.cn", telegram_chat_id=42, wecom_userid="zhangsan", **apps)
    assert person_addresses(both, ["chat", "email"]) == [
        ("telegram", "42"),
        ("wecom_app", "zhangsan"),
        ("email", "a@b.cn"),
    ]
    wecom_only = SimpleNamespace(email=None, telegram_chat_id=None, wecom_userid="lisi", **apps)
    assert person_addresses(wecom_only, ["chat", "email"]) == [("wecom_app", "lisi")]
    assert person_addresses(wecom_only, ["telegram"]) == []
    every = SimpleNamespace(
        email=None, telegram_chat_id=7, wecom_userid=None, dingtalk_userid="ding1",
        feishu_user_id="ou_abc", channel_prefs=None,
    )  # fmt: skip
    assert person_addresses(every, ["chat"]) == [
        ("telegram", "7"), ("dingtalk_app", "ding1"), ("feishu_app", "ou_abc"),
    ]  # fmt: skip
    assert person_addresses(every, ["dingtalk_app"]) == [("dingtalk_app", "ding1")]
