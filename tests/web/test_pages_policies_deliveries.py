"""Policies (ladder editing with validation) and the delivery log (filter, retry one)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from models import (
    Assignment,
    AuditEvent,
    DeliveryAttempt,
    Notification,
    NotificationStatus,
    Policy,
    Source,
    Unit,
)
from supervision.audit import Actor
from supervision.items import AssigneeSpec, ItemSpec, save_item
from supervision.policy import DEFAULT_LADDER, ensure_default_policies
from testing import factories as f
from tests.web.conftest import Seed, Web


async def _policy(sessions) -> int:
    async with sessions() as s, s.begin():
        await ensure_default_policies(s)
        return int(
            await s.scalar(
                select(Policy.id).where(Policy.source == "meeting", Policy.urgent.is_(False))
            )
        )


def _form(**override):
    data = {
        "due_working_days": "20",
        "send_window_start": "09:00",
        "send_window_end": "17:30",
        "workdays_only": "on",
        "step-0-kind": "remind",
        "step-0-offset": "-3",
        "step-0-roles": ["owner", "liaison"],
        "step-0-channels": ["chat"],
        "step-0-template": "remind",
        "step-0-active": "on",
        "step-1-kind": "overdue",
        "step-1-offset": "1",
        "step-1-roles": ["leader"],
        "step-1-channels": ["chat", "email"],
        "step-1-active": "on",
        "step-1-ignore_window": "on",
    }
    data.update(override)
    return data


async def test_policy_edit(as_admin: Web, seed: Seed, sessions) -> None:
    pid = await _policy(sessions)
    html = await (await as_admin.get("/policies")).text()
    assert f"/policies/{pid}" in html
    assert (await as_admin.get(f"/policies/{pid}")).status == 200
    response = await as_admin.post(f"/policies/{pid}", _form())
    assert response.status == 303, await response.text()
    async with sessions() as s:
        policy = await s.get_one(Policy, pid)
        assert policy.due_working_days == 20
        assert [(st.kind, st.offset_days, st.roles, st.channels) for st in policy.steps] == [
            ("remind", -3, ["owner", "liaison"], ["chat"]),
            ("overdue", 1, ["leader"], ["chat", "email"]),
        ]
        assert policy.steps[1].ignore_send_window and policy.steps[1].template == "overdue"
        event = await s.scalar(select(AuditEvent).where(AuditEvent.entity == "policy"))
        assert event is not None and "replanned" in event.detail  # open items re-planned
    response = await as_admin.get("/items/default-due?received_on=2026-11-02&source=meeting")
    assert (await response.json())["working_days"] == 20


async def test_policy_bad_input_changes_nothing(as_admin: Web, seed: Seed, sessions) -> None:
    pid = await _policy(sessions)
    for bad in (
        {"due_working_days": "0"},
        {"send_window_start": "18:00"},
        {"send_window_end": "25:99"},
        {"step-0-offset": "x"},
        {"step-0-roles": ["emperor"]},
        {"step-1-channels": []},
        {"step-0-kind": "", "step-1-kind": ""},
        {"step-0-template": "nope"},
    ):
        response = await as_admin.post(f"/policies/{pid}", _form(**bad))
        assert response.status == 400, bad
    async with sessions() as s:
        policy = await s.get_one(Policy, pid)
        assert policy.due_working_days == 30 and len(policy.steps) == len(DEFAULT_LADDER)


async def test_the_daily_digest_threshold_is_set_on_the_policy_page(
    as_admin: Web, seed: Seed, sessions
) -> None:
    pid = await _policy(sessions)
    html = await (await as_admin.get(f"/policies/{pid}")).text()
    assert 'name="digest_threshold"' in html and "每日待办" in html
    for bad in ("0", "101", "x"):
        response = await as_admin.post(f"/policies/{pid}", _form(digest_threshold=bad))
        assert response.status == 400, bad
        assert "每日待办阈值" in await response.text()
    response = await as_admin.post(f"/policies/{pid}", _form(digest_threshold="8"))
    assert response.status == 303
    async with sessions() as s:
        assert (await s.get_one(Policy, pid)).digest_threshold == 8
    response = await as_admin.post(f"/policies/{pid}", _form(digest_threshold=""))
    assert response.status == 303
    async with sessions() as s:
        assert (await s.get_one(Policy, pid)).digest_threshold is None


async def test_the_notice_step_can_be_switched_off_on_the_policy_page(
    as_admin: Web, seed: Seed, sessions
) -> None:
    pid = await _policy(sessions)
    html = await (await as_admin.get(f"/policies/{pid}")).text()
    assert '<option value="assign" selected>' in html  # the 交办通知 is a step like the others
    form = _form(
        **{
            "step-2-kind": "assign",
            "step-2-offset": "0",
            "step-2-roles": ["owner", "principal"],
            "step-2-channels": ["chat", "group"],
        }
    )  # no step-2-active: switched off
    assert (await as_admin.post(f"/policies/{pid}", form)).status == 303
    async with sessions() as s:
        [notice] = [st for st in (await s.get_one(Policy, pid)).steps if st.kind == "assign"]
        assert (notice.active, notice.roles, notice.channels, notice.template) == (
            False,
            ["owner", "principal"],
            ["chat", "group"],
            "assign",
        )


async def test_the_milestone_ladder_is_set_on_the_policy_page(
    as_admin: Web, seed: Seed, sessions
) -> None:
    pid = await _policy(sessions)
    html = await (await as_admin.get(f"/policies/{pid}")).text()
    for kind, word in (
        ("ms_remind", "节点提醒"),
        ("ms_urge", "节点催办"),
        ("ms_overdue", "节点逾期督办"),
    ):
        assert f'<option value="{kind}" selected>{word}</option>' in html
    listed = await (await as_admin.get("/policies")).text()
    assert "节点提醒 -3 → 节点催办 +0 → 节点逾期督办 +1" in listed
    form = _form(
        **{
            "step-2-kind": "ms_remind",
            "step-2-offset": "-5",
            "step-2-roles": ["owner", "liaison"],
            "step-2-channels": ["chat", "group"],
            "step-2-active": "on",
        }
    )
    assert (await as_admin.post(f"/policies/{pid}", form)).status == 303
    async with sessions() as s:
        [step] = [st for st in (await s.get_one(Policy, pid)).steps if st.kind == "ms_remind"]
        assert (step.offset_days, step.roles, step.template) == (
            -5,
            ["owner", "liaison"],
            "ms_remind",
        )
    # A milestone's message speaks of the milestone: the two kinds of template do not mix.
    for kind, template in (("ms_urge", "urge"), ("urge", "ms_urge")):
        bad = _form(
            **{
                "step-2-kind": kind,
                "step-2-offset": "0",
                "step-2-roles": ["owner"],
                "step-2-channels": ["chat"],
                "step-2-template": template,
            }
        )
        response = await as_admin.post(f"/policies/{pid}", bad)
        assert response.status == 400 and "节点环节只能使用节点模板" in await response.text()


async def test_policy_roles(as_supervisor: Web, as_viewer: Web, seed: Seed, sessions) -> None:
    pid = await _policy(sessions)
    assert (await as_supervisor.get("/policies")).status == 200
    assert (await as_supervisor.get(f"/policies/{pid}")).status == 403
    assert (await as_supervisor.post(f"/policies/{pid}", _form())).status == 403
    assert (await as_viewer.get("/policies")).status == 403


async def _notifications(sessions, seed: Seed) -> tuple[int, int]:
    now = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    async with sessions() as s, s.begin():
        failed = Notification(
            dedupe_key="a:remind:p1:email",
            kind="remind",
            channel="email",
            status="failed",
            not_before=now,
            attempts=5,
            item_id=seed.item_a,
            recipient_id=seed.liaison_a,
            last_error="550 mailbox unavailable",
        )
        sent = Notification(
            dedupe_key="a:remind:p1:telegram",
            kind="remind",
            channel="telegram",
            status="sent",
            not_before=now,
            attempts=1,
            item_id=seed.item_a,
        )
        s.add_all([failed, sent])
        await s.flush()
        s.add(
            DeliveryAttempt(
                notification_id=failed.id,
                channel="email",
                started_at=now,
                outcome="permanent",
                error="550 mailbox unavailable",
            )
        )
        return failed.id, sent.id


async def test_delivery_log_filter_and_retry(as_supervisor: Web, seed: Seed, sessions) -> None:
    failed_id, sent_id = await _notifications(sessions, seed)
    html = await (await as_supervisor.get("/deliveries")).text()
    assert f"notification-{failed_id}" in html and f"notification-{sent_id}" in html
    assert "550 mailbox unavailable" in html
    past_end = await (await as_supervisor.get("/deliveries?page=99")).text()
    assert f"notification-{failed_id}" in past_end  # a page past the end shows the last one
    html = await (await as_supervisor.get("/deliveries?failed=1")).text()
    assert f"notification-{failed_id}" in html and f"notification-{sent_id}" not in html
    response = await as_supervisor.post(f"/deliveries/{sent_id}/retry")
    assert response.status == 409
    response = await as_supervisor.post(f"/deliveries/{failed_id}/retry")
    assert response.status == 303
    async with sessions() as s:
        row = await s.get_one(Notification, failed_id)
        assert row.status == NotificationStatus.PENDING and row.attempts == 0
        assert await s.scalar(select(AuditEvent.id).where(AuditEvent.action == "retry"))
    assert (await as_supervisor.post("/deliveries/999/retry")).status == 404
    # The item's timeline shows the message and its attempt.
    html = await (await as_supervisor.get(f"/items/{seed.item_a}")).text()
    assert "550 mailbox unavailable" in html


async def test_delivery_log_roles(as_liaison: Web, as_viewer: Web, seed: Seed, sessions) -> None:
    failed_id, _ = await _notifications(sessions, seed)
    assert (await as_liaison.get("/deliveries")).status == 403
    assert (await as_viewer.post(f"/deliveries/{failed_id}/retry")).status == 403


async def test_the_policy_page_sets_when_co_input_is_due_and_moves_open_co_deadlines(
    as_admin: Web, seed: Seed, sessions, clock
) -> None:
    pid = await _policy(sessions)
    async with sessions() as s, s.begin():
        co = await s.get_one(Unit, seed.unit_b)
        owner = await f.person(s, unit=co)
        result = await save_item(
            s,
            ItemSpec(
                ref="协-1",
                title="协办事项",
                source=Source.MEETING,
                received_on=date(2026, 11, 2),
                due_on=date(2026, 12, 30),
                lead=AssigneeSpec(seed.unit_a),
                co=(AssigneeSpec(seed.unit_b, owner.id),),
            ),
            actor=Actor.system("test"),
            clock=clock,
        )
        item_id = result.item.id
    page = await (await as_admin.get(f"/policies/{pid}")).text()
    assert 'name="co_lead_days" value="5"' in page
    response = await as_admin.post(f"/policies/{pid}", _form(co_lead_days="3"))
    assert response.status == 303, await response.text()
    async with sessions() as s:
        assert (await s.get_one(Policy, pid)).co_lead_days == 3
        due = await s.scalar(
            select(Assignment.due_on).where(Assignment.item_id == item_id, Assignment.role == "co")
        )
        assert due == date(2026, 12, 25)  # 3 working days before Wed 30 December
    for bad in ("-1", "61", "x"):
        response = await as_admin.post(f"/policies/{pid}", _form(co_lead_days=bad))
        assert response.status == 400 and "协办单位反馈时限" in await response.text()
    async with sessions() as s:
        assert (await s.get_one(Policy, pid)).co_lead_days == 3


async def test_delivery_log_labels_every_status_and_logged_is_not_sent(
    as_supervisor: Web, seed: Seed, sessions
) -> None:
    now = datetime(2026, 11, 2, 9, tzinfo=UTC)
    async with sessions() as s, s.begin():
        rows = {
            status.value: Notification(
                dedupe_key=f"label:{status.value}",
                kind="remind",
                channel="telegram",
                status=status.value,
                not_before=now,
                attempts=1,
                item_id=seed.item_a,
            )
            for status in NotificationStatus
        }
        # What the log channel leaves when e-mail is not configured: "sent", NOT SENT noted.
        logged = Notification(
            dedupe_key="label:logged",
            kind="remind",
            channel="email",
            status="sent",
            not_before=now,
            attempts=1,
            item_id=seed.item_a,
            last_error="NOT SENT: logged by the log channel (email is not configured)",
        )
        s.add_all([*rows.values(), logged])
        await s.flush()
        s.add_all(
            [
                DeliveryAttempt(
                    notification_id=rows["sent"].id,
                    channel="telegram",
                    started_at=now,
                    outcome="sent",
                ),
                DeliveryAttempt(
                    notification_id=logged.id,
                    channel="log",
                    started_at=now,
                    outcome="sent",
                    error="NOT SENT: logged by the log channel (email is not configured)",
                ),
            ]
        )
        ids = {status: row.id for status, row in rows.items()}
        logged_id = logged.id

    def cell(html: str, nid: int) -> str:
        row = html[html.index(f'id="notification-{nid}"') :]
        row = row[: row.index("</tr>")]
        return row.split("<td>")[6]  # the status column

    zh = {
        "pending": "待发送",
        "sending": "发送中",
        "sent": "已发送",
        "failed": "发送失败",
        "cancelled": "已取消",
        "grouped": "已并入汇总",
    }
    en = {
        "pending": "Pending",
        "sending": "Sending",
        "sent": "Sent",
        "failed": "Failed",
        "cancelled": "Cancelled",
        "grouped": "Sent in a digest",
    }
    assert set(zh) == {s.value for s in NotificationStatus}
    html = await (await as_supervisor.get("/deliveries")).text()
    for status, label in zh.items():
        assert label in cell(html, ids[status]), status
        assert f'<option value="{status}">{label}</option>' in html
    logged_cell = cell(html, logged_id)
    assert "未发送（仅记入日志）" in logged_cell and "电子邮件 渠道未配置" in logged_cell
    assert "已发送" not in logged_cell and "NOT SENT" not in html

    assert (await as_supervisor.get("/lang/en?next=/deliveries")).status in (302, 303)
    html = await (await as_supervisor.get("/deliveries")).text()
    for status, label in en.items():
        assert f">{label}</span>" in cell(html, ids[status]), status
    logged_cell = cell(html, logged_id)
    assert "Not sent (logged only)" in logged_cell and ">Sent</span>" not in logged_cell
    assert "NOT SENT" not in html
