"""Channel preferences (接收渠道): a step goes to the first reachable channel of a person's
list, falls back to the next on permanent failure, and follows a change made before sending.
Against the fake Telegram and WeCom servers and a real SMTP server on loopback."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models import Assignment, Channel, Item, Notification, Role
from notifier.channels.base import ChannelRegistry
from notifier.channels.email import EmailChannel
from notifier.channels.log import LogChannel
from notifier.channels.telegram import TelegramChannel
from notifier.channels.wecom_app import WeComAppChannel
from notifier.delivery import Deliverer, Outcome
from notifier.scan import scan_once
from notifier.templating import Renderer
from notifier.wecom.api import WeComApi, WeComConfig
from supervision.channel_prefs import first_sends, format_prefs, parse_prefs, route
from supervision.clock import FixedClock
from supervision.errors import ValidationFailed
from supervision.policy import ensure_default_policies
from supervision.schedule import reschedule
from supervision.timeline import timeline_of
from testing import SHANGHAI
from testing import factories as f
from testing.fakes.telegram import FakeTelegram
from testing.fakes.wecom import FakeWeCom
from testing.notifier_support import MAIL_FROM, SmtpServer, limiter_for, options

pytestmark = pytest.mark.dialects

DUE = date(2026, 12, 14)  # remind on 7 Dec


def _person(prefs: str | None, *, chat: int | None = 42, wecom: str | None = "zhangsan"):
    return SimpleNamespace(
        email="a@b.cn", telegram_chat_id=chat, wecom_userid=wecom, channel_prefs=prefs,
        dingtalk_userid=None, feishu_user_id=None,
    )  # fmt: skip


def test_a_list_is_read_from_codes_or_words_and_checked_against_the_channels() -> None:
    assert parse_prefs("wecom_app;email") == (Channel.WECOM_APP, Channel.EMAIL)
    assert parse_prefs("企业微信；电子邮件") == (Channel.WECOM_APP, Channel.EMAIL)
    assert parse_prefs(["email", "telegram"]) == (Channel.EMAIL, Channel.TELEGRAM)
    assert parse_prefs("  ") == () and format_prefs(()) is None
    assert format_prefs(parse_prefs("Telegram, e-mail")) == "telegram,email"
    with pytest.raises(ValidationFailed, match="'sms' is not a channel for a person"):
        parse_prefs("wecom_app;sms")
    with pytest.raises(ValidationFailed, match="email is listed twice"):
        parse_prefs("email;电子邮件")
    with pytest.raises(ValidationFailed, match="not a channel for a person"):
        parse_prefs("wecom")  # a group robot reaches a group, not a person


def test_the_route_follows_the_list_and_what_reaches_the_person() -> None:
    everywhere = ["chat", "email"]
    # no preference: every bound chat app and e-mail at once (unchanged behaviour)
    assert first_sends(_person(None), everywhere) == [
        (Channel.TELEGRAM, "42"),
        (Channel.WECOM_APP, "zhangsan"),
        (Channel.EMAIL, "a@b.cn"),
    ]
    # with one: the first channel that reaches them, the rest in order behind it
    assert first_sends(_person("wecom_app,email"), everywhere) == [(Channel.WECOM_APP, "zhangsan")]
    assert first_sends(_person("wecom_app,email", wecom=None), everywhere) == [
        (Channel.EMAIL, "a@b.cn")
    ]
    assert route(_person("email,telegram"), everywhere) == [
        (Channel.EMAIL, "a@b.cn"),
        (Channel.TELEGRAM, "42"),
    ]
    # a step the office sends in chat only does not go by e-mail to someone who prefers it
    assert first_sends(_person("email,wecom_app"), ["chat"]) == [(Channel.WECOM_APP, "zhangsan")]
    # a list none of whose channels the cause allows (or reaches them on): the default holds,
    # so an invitation sent by e-mail still goes, and nobody misses a reminder
    assert first_sends(_person("wecom_app"), ["email"]) == [(Channel.EMAIL, "a@b.cn")]
    assert first_sends(_person("email"), ["chat"]) == [
        (Channel.TELEGRAM, "42"),
        (Channel.WECOM_APP, "zhangsan"),
    ]
    assert first_sends(_person("wecom_app", wecom=None), ["chat", "email"]) == [
        (Channel.TELEGRAM, "42"),
        (Channel.EMAIL, "a@b.cn"),
    ]


def _registry(*, tg=None, wecom=None, smtp=None, clock=None) -> ChannelRegistry:
    log = LogChannel()
    channels: list = [log]
    if tg is not None:
        channels.append(TelegramChannel(tg.token, api_base=tg.base_url))
    if wecom is not None:
        config = WeComConfig(
            corp_id=wecom.corp_id,
            agent_id=wecom.agent_id,
            secret=wecom.secret,
            api_base=wecom.base_url,
        )
        channels.append(WeComAppChannel(WeComApi(config, clock=clock)))
    if smtp is not None:
        channels.append(EmailChannel(smtp.config(), mail_from=MAIL_FROM, clock=clock))
    return ChannelRegistry(channels, substitute=log)


def _deliverer(sessions, channels, clock) -> Deliverer:
    return Deliverer(
        sessions,
        channels=channels,
        renderer=Renderer(),
        clock=clock,
        limiter=limiter_for(clock),
        options=options(),
    )


async def _rows(sessions) -> list[Notification]:
    async with sessions() as s:
        return list((await s.scalars(select(Notification).order_by(Notification.id))).all())


async def _owner_with_a_due_step(session, clock, prefs: str | None):
    await ensure_default_policies(session)
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit, roles={Role.OWNER}, telegram_user_id=555)
    owner.wecom_userid = "wangjg"
    owner.channel_prefs = prefs
    item = await f.item(session, due_on=DUE)
    a = await f.assignment(session, item=item, unit=unit, owner=owner)
    a.created_at = clock.now()
    a.last_periodic_at = datetime(2026, 12, 4, 9, tzinfo=SHANGHAI)
    await reschedule(session, a, clock=clock, tz=SHANGHAI)
    await session.commit()
    return owner, item, a


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


async def test_a_step_goes_to_the_first_reachable_channel(session, sessions, clock, smtp):
    owner, _, _ = await _owner_with_a_due_step(session, clock, "wecom_app,email")
    at = FixedClock(datetime(2026, 12, 7, 8, 30, tzinfo=SHANGHAI))
    result = await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert result.by_step == {"remind": 1}
    [row] = await _rows(sessions)  # one message, not one per channel the person is on
    assert (row.channel, row.address, row.via) == ("wecom_app", "wangjg", "chat,email")
    assert row.dedupe_key.endswith(f":p{owner.id}:wecom_app")

    async with FakeWeCom(clock=at, users={"wangjg"}) as wecom:
        channels = _registry(wecom=wecom, smtp=smtp, clock=at)
        counts = await _deliverer(sessions, channels, at).deliver_due()
        await channels.close()
    assert counts == {"sent": 1}
    assert [s.touser for s in wecom.sent] == [["wangjg"]] and smtp.sink.messages == []


async def test_a_permanent_failure_falls_back_to_the_next_channel(session, sessions, clock, smtp):
    owner, item, _ = await _owner_with_a_due_step(session, clock, "wecom_app,telegram,email")
    at = FixedClock(datetime(2026, 12, 7, 8, 30, tzinfo=SHANGHAI))
    await scan_once(sessions, clock=at, tz=SHANGHAI)
    async with (
        FakeWeCom(clock=at, users={"someone-else"}) as wecom,  # 81013: no such user
        FakeTelegram(
            global_rate=None, per_chat_rate=None, clock=lambda: at.now().timestamp()
        ) as tg,
    ):
        tg.block(555)  # the bot is blocked: permanent too
        channels = _registry(tg=tg, wecom=wecom, smtp=smtp, clock=at)
        counts = await _deliverer(sessions, channels, at).deliver_due()
        await channels.close()
    assert counts == {"failed": 2, "sent": 1}
    on_wecom, on_telegram, by_mail = await _rows(sessions)
    assert [r.channel for r in (on_wecom, on_telegram, by_mail)] == [
        "wecom_app",
        "telegram",
        "email",
    ]
    assert [r.status for r in (on_wecom, on_telegram, by_mail)] == ["failed", "failed", "sent"]
    # each stand-in names the row it replaces; the e-mail is the last of the list
    assert on_telegram.fallback_of_id == on_wecom.id and by_mail.fallback_of_id == on_telegram.id
    assert by_mail.address == owner.email and len(smtp.sink.messages) == 1
    # the item's timeline (办理过程) shows the three tries
    async with sessions() as s:
        loaded = await s.scalar(
            select(Item)
            .where(Item.id == item.id)
            .options(selectinload(Item.assignments).selectinload(Assignment.unit))
        )
        entries = await timeline_of(s, loaded)
    shown = [(e.channel, e.status) for e in entries if e.kind == "notification"]
    assert shown == [("wecom_app", "failed"), ("telegram", "failed"), ("email", "sent")]


async def test_without_a_preference_a_chat_failure_still_falls_back_to_one_email(
    session, sessions, clock, smtp
):
    await _owner_with_a_due_step(session, clock, None)
    at = FixedClock(datetime(2026, 12, 7, 8, 30, tzinfo=SHANGHAI))
    await scan_once(sessions, clock=at, tz=SHANGHAI)
    assert [r.channel for r in await _rows(sessions)] == ["telegram", "wecom_app", "email"]
    async with FakeWeCom(clock=at, users={"someone-else"}) as wecom:
        channels = _registry(wecom=wecom, smtp=smtp, clock=at)  # Telegram: the log stand-in
        counts = await _deliverer(sessions, channels, at).deliver_due()
        await channels.close()
    assert counts == {"sent": 2, "failed": 1}  # the step's own e-mail: no second one
    assert len(smtp.sink.messages) == 1


async def test_a_preference_changed_before_sending_moves_the_message(
    session, sessions, clock, smtp
):
    owner, _, _ = await _owner_with_a_due_step(session, clock, "telegram,email")
    at = FixedClock(datetime(2026, 12, 7, 8, 30, tzinfo=SHANGHAI))
    await scan_once(sessions, clock=at, tz=SHANGHAI)
    owner.channel_prefs = "email"
    await session.commit()
    async with FakeTelegram(
        global_rate=None, per_chat_rate=None, clock=lambda: at.now().timestamp()
    ) as tg:
        channels = _registry(tg=tg, smtp=smtp, clock=at)
        counts = await _deliverer(sessions, channels, at).deliver_due()
        await channels.close()
    assert counts == {"cancelled": 1, "sent": 1} and tg.sent == []
    on_telegram, by_mail = await _rows(sessions)
    assert on_telegram.status == "cancelled"
    assert on_telegram.last_error == "moved to email by the person's channel preference"
    assert (by_mail.status, by_mail.fallback_of_id) == ("sent", on_telegram.id)
    assert len(smtp.sink.messages) == 1


async def test_an_unconfigured_channel_is_passed_over_for_the_next(session, sessions, clock, smtp):
    await _owner_with_a_due_step(session, clock, "wecom_app,email")
    at = FixedClock(datetime(2026, 12, 7, 8, 30, tzinfo=SHANGHAI))
    await scan_once(sessions, clock=at, tz=SHANGHAI)
    [row] = await _rows(sessions)
    channels = _registry(smtp=smtp, clock=at)  # no WeCom application set up here
    deliverer = _deliverer(sessions, channels, at)
    result = await deliverer.deliver(row.id)
    assert result.outcome == Outcome.CANCELLED and result.fallback_id is not None
    assert (await deliverer.deliver(result.fallback_id)).outcome == Outcome.SENT
    await channels.close()
    assert len(smtp.sink.messages) == 1
