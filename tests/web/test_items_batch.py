"""The items list's batch actions (催办, 转办, 延期, 撤销): the confirmation page changes
nothing, the POST is all or nothing, each change is audited, and only the office may. On
both databases: the dry run rolls back savepoints, which SQLite's driver makes a case."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from models import (
    Assignment,
    AuditEvent,
    Extension,
    GroupWebhook,
    Item,
    ItemState,
    LadderStep,
    MessageKind,
    Notification,
    ReviewState,
    StepKind,
)
from supervision.policy import ensure_default_policies
from tests.web.conftest import Seed, Web

pytestmark = pytest.mark.dialects


def _form(web: Web, action: str, ids: list[int], **fields: str) -> list[tuple[str, str]]:
    data = [("csrf_token", web.token()), ("action", action)]
    data += [("ids", str(i)) for i in ids]
    data += list(fields.items())
    return data


async def _told_of_new_dues(s) -> list[tuple[int | None, int | None]]:
    """The (assignment, person) of each 期限调整通知 queued."""
    rows = await s.execute(
        select(Notification.assignment_id, Notification.recipient_id).where(
            Notification.kind == MessageKind.DUE_MOVED
        )
    )
    return [tuple(r) for r in rows]


async def _dues(sessions, *assignment_ids: int) -> list[date]:
    async with sessions() as s:
        return [(await s.get_one(Assignment, a)).due_on for a in assignment_ids]


async def test_extend_confirm_page_changes_nothing_then_confirm_does_it_all(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    fields = {"reason": "汛期施工顺延", "due_on": "2026-12-31", "back": "sort=unit"}
    ids = [seed.item_a, seed.item_b]
    page = await as_supervisor.post("/items/batch", _form(as_supervisor, "extend", ids, **fields))
    html = await page.text()
    assert page.status == 200
    assert html.count("完成时限 2026-12-14 → 2026-12-31") == 2
    assert 'id="batch-confirm"' in html and "甲单位的事项" in html and "乙单位的事项" in html
    assert await _dues(sessions, seed.assignment_a, seed.assignment_b) == [date(2026, 12, 14)] * 2
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Extension)) == 0
        assert await _told_of_new_dues(s) == []
    done = await as_supervisor.post(
        "/items/batch", _form(as_supervisor, "extend", ids, confirm="1", **fields)
    )
    assert done.status == 303
    assert done.headers["Location"] == "/items?sort=unit&msg=flash.batch_done"
    assert await _dues(sessions, seed.assignment_a, seed.assignment_b) == [date(2026, 12, 31)] * 2
    async with sessions() as s:
        states = (await s.scalars(select(Extension.state))).all()
        assert sorted(states) == [ReviewState.APPROVED] * 2
        moved = (
            await s.scalars(select(AuditEvent.entity_id).where(AuditEvent.action == "due_moved"))
        ).all()
        assert sorted(moved) == sorted([seed.assignment_a, seed.assignment_b])
        item = await s.get_one(Item, seed.item_a)
        assert item.due_in_force == date(2026, 12, 31)
        # Unit A's people are told (期限调整通知) once its deadline has moved; unit B has
        # nobody to tell.
        assert {a for a, _ in await _told_of_new_dues(s)} == {seed.assignment_a}


async def test_one_refused_item_stops_the_whole_batch(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        closed = await s.get_one(Item, seed.item_b)
        closed.state = ItemState.CLOSED
        (await s.get_one(Assignment, seed.assignment_b)).state = ItemState.CLOSED
    form = _form(
        as_supervisor,
        "cancel",
        [seed.item_a, seed.item_b, 987654],
        reason="重复交办",
        confirm="1",
    )
    page = await as_supervisor.post("/items/batch", form)
    html = await page.text()
    assert page.status == 400
    assert "该事项已办结或已撤销" in html  # item b, named with its reason
    assert "事项 #987654 不存在或不在您的查看范围内" in html
    assert "有 2 个事项不能执行此操作，因此全部未执行" in html
    assert 'id="batch-confirm"' not in html
    async with sessions() as s:
        assert (await s.get_one(Item, seed.item_a)).state == ItemState.OPEN
        assert await s.scalar(select(AuditEvent.id).where(AuditEvent.entity == "item")) is None


async def test_cancel_and_transfer_run_their_use_cases_and_audit(
    as_admin: Web, seed: Seed, sessions
) -> None:
    missing = await as_admin.post(
        "/items/batch", _form(as_admin, "cancel", [seed.item_a], confirm="1")
    )
    assert missing.status == 400 and "请填写理由" in await missing.text()
    moved = await as_admin.post(
        "/items/batch",
        _form(as_admin, "transfer", [seed.item_b], reason="职能调整", unit_id=str(seed.unit_a)),
    )
    assert "主办单位 乙单位 → 甲单位" in await moved.text()
    moved = await as_admin.post(
        "/items/batch",
        _form(
            as_admin,
            "transfer",
            [seed.item_b],
            reason="职能调整",
            unit_id=str(seed.unit_a),
            confirm="1",
        ),
    )
    assert moved.status == 303
    cancelled = await as_admin.post(
        "/items/batch", _form(as_admin, "cancel", [seed.item_a], reason="重复交办", confirm="1")
    )
    assert cancelled.status == 303
    async with sessions() as s:
        assert (await s.get_one(Assignment, seed.assignment_b)).unit_id == seed.unit_a
        assert (await s.get_one(Item, seed.item_a)).state == ItemState.CANCELLED
        actions = set((await s.scalars(select(AuditEvent.action))).all())
        assert {"transfer", "transition"} <= actions


async def test_urge_now_queues_the_urge_step_once_a_day(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    urged = await as_supervisor.post(
        "/items/batch", _form(as_supervisor, "urge", [seed.item_a], confirm="1")
    )
    assert urged.status == 303
    async with sessions() as s:
        rows = (
            await s.scalars(select(Notification).where(Notification.kind == StepKind.URGE))
        ).all()
        assert rows and {r.assignment_id for r in rows} == {seed.assignment_a}
        assert all(r.dedupe_key.startswith(f"a{seed.assignment_a}:urge:2026-11-02:") for r in rows)
        assert {r.recipient_id for r in rows} >= {seed.liaison_a}  # the unit's liaison too
        event = await s.scalar(select(AuditEvent).where(AuditEvent.action == "urge"))
        assert event is not None and event.entity_id == seed.assignment_a
    again = await as_supervisor.post("/items/batch", _form(as_supervisor, "urge", [seed.item_a]))
    assert again.status == 400 and "今天已向甲单位催办过" in await again.text()


async def test_urge_now_reaches_the_units_group_robots_when_the_urge_step_does(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    async with sessions() as s, s.begin():
        hook = GroupWebhook(
            name="甲单位工作群", kind="wecom", url="https://example.invalid/w",
            unit_id=seed.unit_a, steps="urge",
        )  # fmt: skip
        deaf = GroupWebhook(
            name="只收逾期", kind="wecom", url="https://example.invalid/o",
            unit_id=seed.unit_a, steps="overdue",
        )  # fmt: skip
        s.add_all([hook, deaf])
        await ensure_default_policies(s)
        steps = (await s.scalars(select(LadderStep).where(LadderStep.kind == "urge"))).all()
        assert steps, "the seeded policies have an urge step"
        for step in steps:
            step.channels = [*step.channels, "group"]
    urged = await as_supervisor.post(
        "/items/batch", _form(as_supervisor, "urge", [seed.item_a], confirm="1")
    )
    assert urged.status == 303
    async with sessions() as s:
        groups = (
            await s.scalars(select(Notification).where(Notification.webhook_id.is_not(None)))
        ).all()
        # keyed as the scan's urge of the day, so the scan does not send it again
        assert [(r.webhook_id, r.dedupe_key) for r in groups] == [
            (hook.id, f"a{seed.assignment_a}:urge:2026-11-02:w{hook.id}")
        ]


async def test_only_the_office_runs_batches_and_words_follow_the_language(
    as_liaison: Web, as_viewer: Web, as_admin: Web, seed: Seed
) -> None:
    for web in (as_liaison, as_viewer):
        response = await web.post("/items/batch", _form(web, "cancel", [seed.item_a], reason="x"))
        assert response.status == 403
        html = await (await web.get("/items")).text()
        assert 'action="/items/batch"' not in html and 'name="ids"' not in html
    no_csrf = await as_admin.post(
        "/items/batch", [("action", "cancel"), ("ids", str(seed.item_a)), ("reason", "x")]
    )
    assert no_csrf.status == 403
    bad = await as_admin.post("/items/batch", _form(as_admin, "explode", [seed.item_a]))
    assert bad.status == 400
    assert 'name="ids"' in await (await as_admin.get("/items")).text()
    as_admin.client.session.cookie_jar.update_cookies({"lang": "en"})
    page = await as_admin.post(
        "/items/batch",
        _form(as_admin, "extend", [seed.item_a], reason="rain", due_on="2026-12-31"),
    )
    html = await page.text()
    assert "Deadline 2026-12-14 → 2026-12-31" in html and "Confirm the batch: Extend" in html
    empty = await as_admin.post("/items/batch", _form(as_admin, "urge", []))
    assert empty.status == 400 and "Select at least one item first." in await empty.text()


async def test_extend_keeps_the_extension_rules(as_supervisor: Web, seed: Seed, sessions) -> None:
    async with sessions() as s, s.begin():
        late = await s.get_one(Assignment, seed.assignment_b)
        late.due_on = date(2026, 10, 30)  # past: no extension any more
    form = _form(
        as_supervisor,
        "extend",
        [seed.item_a, seed.item_b],
        reason="顺延",
        due_on="2026-12-01",  # earlier than item a's deadline
        confirm="1",
    )
    page = await as_supervisor.post("/items/batch", form)
    html = await page.text()
    assert page.status == 400
    assert "完成时限 2026-10-30 已过，不能再申请延期。" in html
    assert "2026-12-14" in html  # item a: the new date must be later than its deadline
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Extension)) == 0
        assert (await s.get_one(Assignment, seed.assignment_a)).due_on == date(2026, 12, 14)
