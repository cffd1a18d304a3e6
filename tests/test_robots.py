"""Group robots (群机器人): the record's rules, who hears which step, and the test message
through the real channels against fake robots on loopback (signatures checked)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from models import AuditEvent, GroupWebhook, Notification, NotificationStatus, StepKind
from notifier.context import ContextConfig
from notifier.delivery import Deliverer
from notifier.robot_probe import send_test
from notifier.templating import Renderer
from supervision.audit import Actor
from supervision.clock import FixedClock
from supervision.errors import NotFound, ValidationFailed
from supervision.labels import told
from supervision.outbox import notify_unit_groups
from supervision.robots import (
    RobotBook,
    RobotSpec,
    masked_url,
    opened,
    remove_robot,
    save_robot,
)
from supervision.sealing import Sealer
from testing import factories as f
from testing.fakes.robots import FakeRobots
from testing.notifier_support import limiter_for, options, registry, reminder

ADMIN = Actor(None, "admin")
SEALER = Sealer("robots-test-secret-key-0123456789abcdef")
DING_SECRET = "SEC" + "0123456789abcdef" * 4
WECOM_URL = (
    "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
)
DING_URL = "https://oapi.dingtalk.com/robot/send?access_token=" + "ab12" * 16
FEISHU_URL = "https://open.feishu.cn/open-apis/bot/v2/hook/2b5a1f3c-90de-4c6b-bd22-6f5a"


def spec(**kw) -> RobotSpec:
    values = {"name": "甲局工作群", "kind": "wecom", "unit_id": None, "url": WECOM_URL}
    values.update(kw)
    return RobotSpec(**values)


@pytest.fixture
async def robots(clock):
    async with FakeRobots(clock=clock) as server:
        yield server


async def test_official_urls_are_accepted_and_never_audited(session, clock) -> None:
    unit = await f.unit(session, code="JA", name="甲局")
    for kind, url, secret in (
        ("wecom", WECOM_URL, None),
        ("dingtalk", DING_URL, DING_SECRET),
        ("feishu", FEISHU_URL, "demoSecret42"),
    ):
        hook = await save_robot(
            session, sealer=SEALER, robot_id=None, spec=spec(kind=kind, url=url, secret=secret,
                                              unit_id=unit.id), actor=ADMIN, clock=clock,
        )  # fmt: skip
        assert (hook.kind, opened(hook, SEALER)) == (kind, (url, secret))
        assert hook.url.startswith("sealed:") and hook.url_shown == masked_url(url)
        assert url not in hook.url and (secret is None or secret not in (hook.secret or ""))
    events = (await session.scalars(select(AuditEvent))).all()
    assert [e.action for e in events] == ["create"] * 3
    stored = repr([e.detail for e in events])
    assert "ab12ab12" not in stored and DING_SECRET not in stored and "demoSecret42" not in stored
    assert "693a91f6" not in stored and "2b5a1f3c" not in stored


@pytest.mark.parametrize(
    ("changes", "zh", "en"),
    [
        ({"name": " "}, "请填写群机器人的名称", "Give the group robot a name"),
        ({"kind": "slack"}, "企业微信、钉钉或飞书", "WeCom, DingTalk or Feishu"),
        ({"url": None}, "请填写 Webhook 地址", "Enter the webhook URL"),
        ({"url": WECOM_URL.replace("https", "http")}, "https://", "https://"),
        ({"url": WECOM_URL.replace("qyapi.weixin.qq.com", "evil.example")}, "evil.example",
         "evil.example is not this kind of robot's (expected qyapi.weixin.qq.com)"),
        ({"url": DING_URL}, "oapi.dingtalk.com 不是该类型机器人的服务器", "(expected qyapi"),
        ({"url": WECOM_URL.replace("webhook/send", "webhook/upload")}, "cgi-bin/webhook/send?key=",
         "it looks like"),
        ({"url": WECOM_URL + "&x=1"}, "应形如", "looks like"),
        ({"kind": "feishu", "url": FEISHU_URL + "?key=1"}, "open.feishu.cn/open-apis/bot",
         "looks like"),
        ({"secret": "x" * 20}, "企业微信群机器人没有加签密钥", "WeCom group robots have no"),
        ({"kind": "dingtalk", "url": DING_URL, "secret": "SEC123"}, "以 SEC 开头",
         "starts with SEC"),
        ({"unit_id": None}, "所属的单位", "Choose the robot's unit"),
        ({"unit_id": 99999}, "单位 #99999 不存在", "no unit #99999"),
        ({"steps": ()}, "至少选择一个", "at least one step"),
        ({"steps": ("remind", "shout")}, "“shout”不是督办环节", "“shout” is not a ladder step"),
    ],
)  # fmt: skip
async def test_bad_input_is_refused_in_both_languages_and_changes_nothing(
    session, clock, changes, zh, en
) -> None:
    unit = await f.unit(session, code="JA", name="甲局")
    values = {"unit_id": unit.id, **changes}
    with pytest.raises(ValidationFailed) as caught:
        await save_robot(
            session, sealer=SEALER, robot_id=None, spec=spec(**values), actor=ADMIN, clock=clock
        )
    assert zh in told(caught.value, "zh") and en in told(caught.value, "en")
    assert (await session.scalars(select(GroupWebhook))).all() == []


async def test_a_change_keeps_url_and_secret_unless_typed_and_can_clear_the_secret(
    session, clock
) -> None:
    unit = await f.unit(session, code="JA", name="甲局")
    hook = await save_robot(
            session, sealer=SEALER, robot_id=None, actor=ADMIN, clock=clock,
        spec=spec(kind="dingtalk", url=DING_URL, secret=DING_SECRET, unit_id=unit.id),
    )  # fmt: skip
    same = spec(kind="dingtalk", url=None, secret=None, unit_id=unit.id, name="改名")
    await save_robot(session, sealer=SEALER, robot_id=hook.id, spec=same, actor=ADMIN, clock=clock)
    assert (hook.name, opened(hook, SEALER)) == ("改名", (DING_URL, DING_SECRET))
    # Another kind needs the new kind's URL: the stored one does not fit it.
    with pytest.raises(ValidationFailed, match=r"open\.feishu\.cn / open\.larksuite\.com"):
        await save_robot(
            session, sealer=SEALER, robot_id=hook.id, actor=ADMIN, clock=clock,
            spec=spec(kind="feishu", url=None, unit_id=unit.id),
        )  # fmt: skip
    cleared = spec(kind="dingtalk", unit_id=unit.id, url=None, clear_secret=True)
    await save_robot(
        session, sealer=SEALER, robot_id=hook.id, spec=cleared, actor=ADMIN, clock=clock
    )
    assert hook.secret is None and opened(hook, SEALER) == (DING_URL, None)
    update = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "update"))).all()
    assert update[-1].detail["changes"]["secret"] == ["***", None]
    assert DING_SECRET not in repr([e.detail for e in update])


async def test_steps_and_leadership_decide_who_hears_what(session, clock) -> None:
    a = await f.unit(session, code="A", name="甲")
    b = await f.unit(session, code="B", name="乙")
    every = await save_robot(
            session, sealer=SEALER, robot_id=None, spec=spec(unit_id=a.id), actor=ADMIN,
                             clock=clock)  # fmt: skip
    late = await save_robot(
            session, sealer=SEALER, robot_id=None, actor=ADMIN, clock=clock,
            spec=spec(unit_id=a.id, steps=("overdue", "escalate")),
    )  # fmt: skip
    lead = await save_robot(
            session, sealer=SEALER, robot_id=None, spec=spec(leadership=True, steps=("escalate",)),
        actor=ADMIN, clock=clock,
    )  # fmt: skip
    off = await save_robot(
            session, sealer=SEALER, robot_id=None, spec=spec(unit_id=a.id, active=False),
                           actor=ADMIN, clock=clock)  # fmt: skip
    book = await RobotBook.load(session, [a.id, b.id])
    ids = lambda unit, step: {i for i, _ in book.of(unit, step)}  # noqa: E731
    assert ids(a.id, StepKind.REMIND) == {every.id}
    assert ids(a.id, StepKind.ESCALATE) == {every.id, late.id, lead.id}
    assert ids(b.id, StepKind.ESCALATE) == {lead.id}
    assert ids(b.id, StepKind.OVERDUE) == set() and off.id not in ids(a.id, StepKind.OVERDUE)
    now = clock.now()
    rows = await notify_unit_groups(
        session, unit_id=b.id, kind="escalate", key="a1:escalate:2026-12-01", not_before=now,
        now=now,
    )  # fmt: skip
    assert len(rows) == 1


async def test_remove_is_audited_and_unknown_ids_are_not_found(session, clock) -> None:
    unit = await f.unit(session, code="A", name="甲")
    hook = await save_robot(
            session, sealer=SEALER, robot_id=None, spec=spec(unit_id=unit.id), actor=ADMIN,
                            clock=clock)  # fmt: skip
    await remove_robot(session, robot_id=hook.id, actor=ADMIN, clock=clock)
    assert await session.get(GroupWebhook, hook.id) is None
    [event] = await session.scalars(select(AuditEvent).where(AuditEvent.action == "delete"))
    assert event.detail["url"] == masked_url(WECOM_URL) and "693a91f6" not in event.detail["url"]
    with pytest.raises(NotFound) as caught:
        await remove_robot(session, robot_id=hook.id, actor=ADMIN, clock=clock)
    assert "不存在" in told(caught.value, "zh") and "no group robot" in told(caught.value, "en")


async def _robot(sessions, clock, robots: FakeRobots, kind: str, secret: str | None,
                 stored_secret: str | None = None) -> int:  # fmt: skip
    url = robots.add(kind, secret=secret)
    async with sessions() as session, session.begin():
        unit = await f.unit(session, code=f"U{len(robots.robots)}", name="单位")
        hook = await save_robot(
            session, sealer=SEALER, robot_id=None, actor=ADMIN, clock=clock,
            extra_hosts=(robots.host,),
            spec=spec(kind=kind, url=url, secret=stored_secret or secret, unit_id=unit.id),
        )  # fmt: skip
        return hook.id


@pytest.mark.parametrize(
    ("kind", "secret"), [("wecom", None), ("dingtalk", DING_SECRET), ("feishu", "feishuSecret1")]
)
async def test_test_message_goes_through_the_real_channel_signed(
    sessions, clock, robots, kind, secret
) -> None:
    robot_id = await _robot(sessions, clock, robots, kind, secret)
    outcome = await send_test(
        sessions, sealer=SEALER, robot_id=robot_id, actor_id=None, clock=clock, office="省督查室"
    )
    assert outcome.accepted and outcome.reached, outcome
    assert outcome.answer.startswith("HTTP 200, ")
    [received] = robots.received
    assert "省督查室" in repr(received.body) and "测试消息" in repr(received.body)
    async with sessions() as session:
        [event] = (await session.scalars(select(AuditEvent).where(
            AuditEvent.action == "test_message"))).all()  # fmt: skip
        assert event.detail == {"accepted": True, "answer": outcome.answer}


@pytest.mark.parametrize(
    ("kind", "secret", "stored", "shown"),
    [
        ("dingtalk", DING_SECRET, "SEC" + "f" * 64, "errcode 310000, errmsg sign not match"),
        ("feishu", "feishuSecret1", "otherSecret2", "code 19021, msg sign match fail"),
    ],
)
async def test_a_wrong_signature_shows_the_robots_refusal(
    sessions, clock, robots, kind, secret, stored, shown
) -> None:
    robot_id = await _robot(sessions, clock, robots, kind, secret, stored_secret=stored)
    outcome = await send_test(
        sessions, sealer=SEALER, robot_id=robot_id, actor_id=None, clock=clock, office="x"
    )
    assert outcome.reached and not outcome.accepted
    assert shown in outcome.answer
    assert outcome.said("zh").startswith("机器人拒收：") and shown in outcome.said("en")
    assert stored not in outcome.answer


async def test_a_stale_timestamp_and_an_unknown_key_are_refused(sessions, clock, robots) -> None:
    robot_id = await _robot(sessions, clock, robots, "dingtalk", DING_SECRET)
    robots.clock = FixedClock(clock.now() + timedelta(hours=2))  # the robot's clock is ahead
    stale = await send_test(
        sessions, sealer=SEALER, robot_id=robot_id, actor_id=None, clock=clock, office="x"
    )
    assert "310000" in stale.answer and "invalid timestamp" in stale.answer
    gone = await _robot(sessions, clock, robots, "wecom", None)
    robots.robots.clear()
    unknown = await send_test(
        sessions, sealer=SEALER, robot_id=gone, actor_id=None, clock=clock, office="x"
    )
    assert not unknown.accepted and "errcode 93000" in unknown.answer


async def test_an_unreachable_robot_is_told_without_its_key(sessions, clock, robots) -> None:
    robot_id = await _robot(sessions, clock, robots, "wecom", None)
    await robots.stop()
    outcome = await send_test(
        sessions, sealer=SEALER, robot_id=robot_id, actor_id=None, clock=clock, office="x"
    )
    assert not outcome.reached and "network error" in outcome.answer
    assert "key=***" in outcome.answer and "无法连接到机器人" in outcome.said("zh")


async def test_robots_stored_sealed_are_delivered_signed_and_need_the_key(
    sessions, clock, robots
) -> None:
    robot_id = await _robot(sessions, clock, robots, "dingtalk", DING_SECRET)
    case = await reminder(sessions, clock, channels=())
    async with sessions() as s, s.begin():
        hook = await s.get_one(GroupWebhook, robot_id)
        hook.unit_id = case.unit.id
        for n in (1, 2):
            await notify_unit_groups(
                s, unit_id=case.unit.id, kind="overdue", key=f"a{case.assignment.id}:overdue:{n}",
                not_before=clock.now(), now=clock.now(), assignment_id=case.assignment.id,
                item_id=case.item.id,
            )  # fmt: skip

    async def deliver(sealer: Sealer | None) -> dict[str, int]:
        channels = registry(clock=clock, groups=True)
        context = ContextConfig(sealer=sealer)
        counts = await Deliverer(
            sessions, channels=channels, renderer=Renderer(), clock=clock,
            limiter=limiter_for(clock), options=options(context=context),
        ).deliver_due()  # fmt: skip
        await channels.close()
        return dict(counts)

    # Without the key the robot cannot be opened: nothing is sent, and the row says why
    # (retried, as an invite link sealed under another key is).
    assert await deliver(None) == {"retry": 2} and robots.received == []
    async with sessions() as s:
        errors = (await s.scalars(select(Notification.last_error))).all()
    assert all("SealBroken" in (e or "") for e in errors)
    async with sessions() as s, s.begin():
        for row in (await s.scalars(select(Notification))).all():
            row.status, row.attempts, row.next_attempt_at = NotificationStatus.PENDING, 0, None
    # With it, DingTalk checks the signature made with the opened secret.
    assert await deliver(SEALER) == {"sent": 2}
    assert len(robots.received) == 2 and all("sign" in r.query for r in robots.received)
