"""``duban demo``: realistic, idempotent, with mixed lights on any day."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from sqlalchemy import func, select

import duban.cli
from duban.demo import DEMO_PASSWORD, ITEMS, WECOM_USERS, demo_ref, load_demo
from duban.runtime import open_runtime
from models import (
    Assignment,
    AuditEvent,
    Base,
    Bulletin,
    Extension,
    Item,
    ItemState,
    Milestone,
    Notification,
    Person,
    Report,
    ReportKind,
    ReviewState,
    Role,
    Source,
    Unit,
)
from notifier.digest import scan_and_group
from supervision.accounts import verify_password
from supervision.clock import FixedClock
from supervision.items import is_member
from supervision.light import Light
from testing import SHANGHAI


async def _snapshot(session) -> dict[str, int]:
    counts = {}
    for table in Base.metadata.sorted_tables:
        counts[table.name] = await session.scalar(select(func.count()).select_from(table))
    return counts


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 2, 9, 0),  # a Monday
        datetime(2026, 10, 4, 20, 0),  # inside the 国庆 holiday
        datetime(2026, 12, 27, 9, 0),  # a Sunday; defaults run into 2027 (provisional)
    ],
)
async def test_demo_is_idempotent_and_has_mixed_lights(sessions, at):
    clock = FixedClock(at.replace(tzinfo=SHANGHAI))
    async with sessions() as session, session.begin():
        first = await load_demo(session, clock=clock, tz=SHANGHAI)
    assert (first.units.created, first.people.created, first.items_created) == (11, 23, 19)
    assert first.lights[Light.RED] >= 2
    assert first.lights[Light.YELLOW] >= 2
    assert first.lights[Light.GREEN] >= 2
    assert first.lights[Light.GREY] == 1
    async with sessions() as session:
        (bulletin,) = (await session.scalars(select(Bulletin))).all()
    assert bulletin.data["praised_units"] and bulletin.data["urged"]
    assert all(u["items"] and u["overdue"] == len(u["items"]) for u in bulletin.data["urged"])
    assert "通报表扬" in first.bulletin and "督促整改" in first.bulletin
    async with sessions() as session:
        before = await _snapshot(session)
    async with sessions() as session, session.begin():
        second = await load_demo(session, clock=clock, tz=SHANGHAI)
    assert (second.units.unchanged, second.people.unchanged) == (11, 23)
    assert (second.items_created, second.items_present) == (0, 19)
    async with sessions() as session:
        assert await _snapshot(session) == before


async def test_demo_shows_the_assign_notice_of_a_new_urgent_item(sessions, clock):
    async with sessions() as session, session.begin():
        await load_demo(session, clock=clock, tz=SHANGHAI)
    await scan_and_group()(sessions, clock=clock, tz=SHANGHAI)
    async with sessions() as session:
        new = await session.scalar(select(Item).where(Item.ref == demo_ref(19)))
        assert new is not None and new.urgent
        rows = (
            await session.scalars(select(Notification).where(Notification.kind == "assign"))
        ).all()
        # Only the item received today: the others were assigned (and noticed) long ago.
        assert {r.item_id for r in rows} == {new.id}
        roles = {role for r in rows for role in r.payload["roles"]}
        assert roles == {"owner", "principal"}  # 急件: the principals get it too
        units = {r.assignment_id for r in rows}
        assert len(units) == 2  # the lead unit and the co unit


async def test_demo_content_and_wecom_bindings(sessions, clock):
    async with sessions() as session, session.begin():
        summary = await load_demo(session, clock=clock, tz=SHANGHAI)
    async with sessions() as session:
        people = (await session.scalars(select(Person))).all()
        roles = [r for p in people for r in p.roles]
        assert {Role.OWNER, Role.LIAISON, Role.LEADER, Role.PRINCIPAL} <= set(roles)
        assert roles.count(Role.SUPERVISOR) == 2 and roles.count(Role.VIEWER) == 1
        assert all(p.email.endswith("@demo.gov.cn") for p in people)
        logins = [p for p in people if p.password_hash]
        assert len(logins) == 3
        assert all(verify_password(p.password_hash, DEMO_PASSWORD) for p in logins)
        depth = await session.scalar(
            select(func.count()).select_from(Unit).where(Unit.parent_id.is_not(None))
        )
        assert depth == 10  # one root, the rest below it (one two levels down)
        items = (await session.scalars(select(Item))).all()
        assert len({i.source for i in items}) == 7
        assert any(i.urgent for i in items)
        assert sum(i.state == ItemState.CLOSED.value for i in items) == 1
        assert sum(i.state == ItemState.COMPLETION_REQUESTED.value for i in items) == 1
        co = await session.scalar(
            select(func.count()).select_from(Assignment).where(Assignment.role == "co")
        )
        assert co >= 8
        # every assignment's owner (主办 and 协办) is one of its unit's people
        owned = (
            await session.execute(
                select(Assignment.unit_id, Person.unit_id).join(
                    Person, Person.id == Assignment.owner_id
                )
            )
        ).all()
        assert owned and all(is_member(person_unit, unit) for unit, person_unit in owned)
        extensions = (await session.scalars(select(Extension))).all()
        assert [e.state for e in extensions] == [ReviewState.PENDING.value]
        progress = await session.scalar(
            select(func.count()).select_from(Report).where(Report.kind == ReportKind.PROGRESS.value)
        )
        assert progress >= 10
        received = sorted(i.received_on for i in items)
        today = clock.now().astimezone(SHANGHAI).date()
        assert (today - received[0]).days == max(d.received_ago for d in ITEMS)
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) > 50
        stages = (await session.scalars(select(Milestone).order_by(Milestone.due_on))).all()
        assert [m.state for m in stages] == ["done", "open", "open"]  # an annual task's 节点
        assert {m.item_id for m in stages} == {
            i.id for i in items if i.source == Source.ANNUAL_TASK and i.ref == demo_ref(11)
        }
    lines = summary.lines()
    assert "items: 19 created, 0 already present" in lines
    assert "  zhenghua@demo.gov.cn (supervisor)" in lines
    # the people bound to WeCom (one load of the demo for both)
    async with sessions() as session:
        bound = dict(
            (await session.execute(select(Person.email, Person.wecom_userid).where(
                Person.wecom_userid.is_not(None)))).all()
        )  # fmt: skip
    assert bound == {f"{u}@demo.gov.cn": u for u in WECOM_USERS}


async def test_demo_command(engine, db_url, clock, monkeypatch, capsys):
    monkeypatch.setenv("DUBAN_DATABASE_URL", db_url)
    monkeypatch.setattr(duban.cli, "open_runtime", lambda settings: open_runtime(settings, clock))
    assert await asyncio.to_thread(duban.cli.main, ["demo"]) == 0
    out = capsys.readouterr().out
    assert "items: 19 created, 0 already present" in out
    assert "web logins (password duban-demo):" in out
    assert await asyncio.to_thread(duban.cli.main, ["demo"]) == 0
    out = capsys.readouterr().out
    assert "units: 11 row(s): 0 created, 0 updated, 11 unchanged" in out
    assert "items: 0 created, 19 already present" in out


@pytest.mark.parametrize(
    "at",
    [
        datetime(2026, 11, 2, 9, 0),  # a Monday
        datetime(2026, 12, 4, 16, 0),  # a Friday: the near milestone falls on a Sunday
    ],
)
async def test_demo_fires_the_ladder_of_its_near_milestone(sessions, at):
    """The annual task's milestone due in two days gets its 节点提醒 at the first scan."""
    clock = FixedClock(at.replace(tzinfo=SHANGHAI))
    async with sessions() as session, session.begin():
        await load_demo(session, clock=clock, tz=SHANGHAI)
    result = await scan_and_group()(sessions, clock=clock, tz=SHANGHAI)
    assert result.scan.milestones == 2  # the open ones, planned once; a done one is not due
    async with sessions() as session:
        near = await session.scalar(select(Milestone).where(Milestone.name.like("完成平台开发%")))
        assert near is not None
        rows = (
            await session.scalars(select(Notification).where(Notification.kind == "ms_remind"))
        ).all()
        assert rows and {r.payload["milestone_id"] for r in rows} == {near.id}
        assert {r.recipient_id for r in rows} == {near.owner_id}
        later = await session.scalar(select(Milestone).where(Milestone.name == "平台上线试运行"))
        assert later is not None and later.next_action_at is not None
        assert later.next_action_at > clock.now()  # its 节点提醒 is planned, not sent


async def test_demo_services_answer_by_wecom_and_by_mail(
    sessions, clock, tmp_path, monkeypatch, aiohttp_client_factory
):
    """``scripts/demo --with-fakes``: the loopback services' settings load, Duban's WeCom card
    shows on the phone page, a text sent there reaches Duban's callback and its answer comes
    back; with Dovecot installed, an e-mail reply lands in the office mailbox, threaded."""
    from aiohttp import ClientSession

    from duban.process import notifier_config
    from duban.settings import load_settings
    from notifier.channels import OutgoingMessage, build_channels
    from notifier.wecom.crypto import WeComCrypt
    from supervision.wecom_replies import WeComReplies
    from testing.demo_services import DemoServices, write_env
    from web.app import WebConfig, WebDeps, create_app
    from web.wecom import setup_wecom_callback

    async with sessions() as session, session.begin():
        await load_demo(session, clock=clock, tz=SHANGHAI)
    services = DemoServices(web_base="http://unset", wecom_users=set(WECOM_USERS))
    await services.start()
    try:
        write_env(tmp_path / "env", services.env())
        assert (tmp_path / "env").stat().st_mode & 0o077 == 0
        for key, value in services.env().items():
            monkeypatch.setenv(key, value)
        settings = load_settings(_env_file=None)
        assert settings.wecom.sending and settings.wecom.receiving
        assert (settings.mail.imap is not None) == (services.dovecot is not None)
        wecom = settings.wecom
        crypt = WeComCrypt(
            wecom.token.get_secret_value(), wecom.aes_key.get_secret_value(), wecom.corp_id
        )
        deps = WebDeps(config=WebConfig(secret_key="x" * 48), sessions=sessions, clock=clock)
        replies = WeComReplies(clock=clock, tz=SHANGHAI)
        client = await aiohttp_client_factory(
            create_app(deps, [lambda a: setup_wecom_callback(a, crypt, replies)])
        )
        services.web_base = str(client.make_url("/")).rstrip("/")
        channels = build_channels(notifier_config(settings), clock=clock)
        card = OutgoingMessage(
            notification_id=1, kind="remind", channel="wecom_app", address="zhangwei",
            text="督办提醒｜演示\n推进某项工作\n责任人：张伟", subject="督办提醒",
        )  # fmt: skip
        await channels.get("wecom_app").send(card)
        mail = OutgoingMessage(
            notification_id=2, kind="remind", channel="email", address="zhangwei@demo.gov.cn",
            text="请报送进展", subject="督办提醒", message_id="<n2@duban.test>",
        )  # fmt: skip
        await channels.get("email").send(mail)
        await channels.close()
        async with ClientSession() as http:
            page = await (await http.get(services.phone_url)).text()
            assert "企业微信 → zhangwei" in page and "督办提醒｜演示" in page
            assert "邮件 → " in page and "zhangwei@demo.gov.cn" in page
            await http.post(services.phone_url + "wecom", data={"user": "zhangwei", "text": "进展"})
            page = await (await http.get(services.phone_url)).text()
            assert "督办 → zhangwei" in page  # Duban's passive reply, decrypted
            if services.dovecot is not None:
                await http.post(services.phone_url + "mail", data={"n": "0", "text": "已完成"})
        if services.dovecot is not None:
            assert services.dovecot.unseen_count() == 1
            imap = services.dovecot.client()
            _, data = imap.fetch("1", "(BODY.PEEK[HEADER])")
            imap.logout()
            header = data[0][1].decode()
            assert "In-Reply-To: <n2@duban.test>" in header
            assert "From: zhangwei@demo.gov.cn" in header
    finally:
        await services.stop()
