"""`supervision.history`: an item's timeline told in words, zh and en (who did what, when)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from models import DeliveryAttempt, Notification, NotificationStatus, Person, Role
from supervision.access import scope_for
from supervision.audit import Actor
from supervision.history import HISTORY, Told, history, tell
from supervision.reports import file_report
from supervision.requests import decide_extension, request_extension
from supervision.rework import transfer_assignment
from supervision.timeline import EntryKind, TimelineEntry, item_timeline
from testing import factories as f

TZ = ZoneInfo("Asia/Shanghai")
AT = datetime(2026, 12, 7, 1, 30, tzinfo=UTC)
#: what a history line must never show: codes, keys, arrows, log-style numbering
RAW = re.compile(r"[a-z]+_[a-z_]+|\b[a-z]+\.[a-z_]+\b|→|#\d|·|\b(?:None|pending|sent|chat)\b")
HAN = re.compile(r"[\u4e00-\u9fff]")


def _message(
    name: str, *, channel: str = "email", status: str = "sent", nid: int = 1, at: datetime = AT
) -> TimelineEntry:
    return TimelineEntry(
        at=at,
        kind=EntryKind.NOTIFICATION,
        subject="escalate",
        entity_id=nid,
        channel=channel,
        status=status,
        who=name,
    )


def test_the_messages_of_one_step_moment_and_channel_are_one_line() -> None:
    entries = [
        _message("刘洋", nid=1),
        _message("郑华", nid=2, at=AT + timedelta(seconds=20)),  # the same minute
        _message("梁晨", nid=3),
        _message("刘洋", nid=4, channel="telegram"),
    ]
    lines = history(entries, "zh")
    assert [line.text for line in lines] == [
        "升级督办已发送：刘洋、郑华、梁晨（电子邮件）",
        "升级督办已发送：刘洋（Telegram）",
    ]
    assert [line.text for line in history(entries, "en")] == [
        "Escalation to 刘洋, 郑华, 梁晨 (e-mail): sent",
        "Escalation to 刘洋 (Telegram): sent",
    ]


def test_a_failed_message_is_its_own_line_and_says_why() -> None:
    entries = [
        _message("刘洋", nid=1),
        _message("梁晨", nid=2, status="failed"),
        TimelineEntry(
            at=AT + timedelta(minutes=1),
            kind=EntryKind.ATTEMPT,
            subject="escalate",
            entity_id=2,
            channel="email",
            status="permanent",
            detail="550 mailbox unavailable",
            who="梁晨",
        ),
    ]
    failed = history(entries, "zh")[1]
    assert failed.text == "升级督办发送失败：梁晨（电子邮件）"
    assert failed.detail == "梁晨：发送失败（550 mailbox unavailable）"
    assert history(entries, "en")[1].detail == "梁晨: failed (550 mailbox unavailable)"


def test_a_later_step_or_another_minute_is_another_line() -> None:
    later = _message("刘洋", nid=2, at=AT + timedelta(minutes=5))
    assert len(history([_message("刘洋", nid=1), later], "zh")) == 2


def test_a_system_actor_is_named_in_words_and_a_missing_one_is_someone() -> None:
    base = TimelineEntry(at=AT, kind=EntryKind.AUDIT, subject="item:create", entity_id=1)
    assert history([replace(base, who="import")], "zh")[0].text == "批量导入登记了事项"
    assert (
        history([replace(base, who="cli")], "en")[0].text == "The command line registered the item"
    )
    assert history([base], "zh")[0].text == "有人登记了事项"


def test_a_step_the_scan_could_not_send_is_said_with_the_skipped_steps() -> None:
    step = TimelineEntry(
        at=AT,
        kind=EntryKind.AUDIT,
        subject="assignment:ladder_step",
        unit_name="甲局",
        who="scan",
        step="overdue",
        skipped=("remind", "urge"),
    )
    assert history([step], "zh")[0].text == "甲局错过了提醒、催办，直接发送逾期督办"
    silent = replace(step, skipped=())
    assert history([silent], "zh")[0].text.startswith("甲局的逾期督办没有发出新消息")


def test_an_unknown_audit_action_is_said_with_catalogue_words() -> None:
    e = TimelineEntry(at=AT, kind=EntryKind.AUDIT, subject="item:signed_off", who="王五")
    assert history([e], "zh")[0].text == "王五签发事项"


def test_every_history_sentence_has_both_languages_and_the_same_values() -> None:
    assert set(HISTORY) == set(Told)
    for sentence, (zh, en) in HISTORY.items():
        fields = set(re.findall(r"{(\w+)}", zh))
        assert fields == set(re.findall(r"{(\w+)}", en)), sentence
        if sentence not in (Told.LIST_GLUE, Told.DETAIL_GLUE):
            assert HAN.search(zh) or fields, sentence
        assert not HAN.search(en), sentence
    assert tell(Told.SOMEONE, "en") == "Someone"


async def test_the_history_of_an_item_in_words_never_in_codes(session, clock) -> None:
    unit = await f.unit(session, code="A", name="甲局")
    other = await f.unit(session, code="B", name="乙局")
    owner = await f.person(session, name="张伟", unit=unit, roles={Role.OWNER})
    taker = await f.person(session, name="赵六", unit=other, roles={Role.OWNER})
    sup = await f.person(session, name="刘洋", roles={Role.SUPERVISOR})
    item = await f.item(session, ref="T-9", due_on=date(2026, 12, 14))
    lead = await f.assignment(session, item=item, unit=unit, owner=owner)
    clock.advance(timedelta(minutes=1))
    await file_report(
        session, assignment=lead, author=owner, text="已完成调研", clock=clock, channel="wecom_app"
    )
    clock.advance(timedelta(minutes=1))
    ext = await request_extension(
        session,
        assignment=lead,
        person=owner,
        reason="需协调省直部门",
        progress="已完成初稿",
        new_due_on=date(2026, 12, 31),
        clock=clock,
        tz=TZ,
        channel="web",
    )
    clock.advance(timedelta(minutes=1))
    await decide_extension(
        session, extension=ext, reviewer=sup, approve=True, comment="同意", clock=clock
    )
    clock.advance(timedelta(minutes=1))
    await transfer_assignment(
        session,
        lead,
        reason="属乙局职责",
        unit_id=other.id,
        owner_id=taker.id,
        actor=Actor.of(sup),
        clock=clock,
    )
    told = await session.scalar(select(Notification).order_by(Notification.id).limit(1))
    assert told is not None
    told.status = NotificationStatus.FAILED
    session.add(
        DeliveryAttempt(
            notification_id=told.id,
            channel=told.channel,
            started_at=clock.now(),
            outcome="permanent",
            error="chat not found",
        )
    )
    await session.flush()
    scope = await scope_for(session, await session.get_one(Person, sup.id))

    entries = await item_timeline(session, scope=scope, item_id=item.id)
    zh = [line.text for line in history(entries, "zh")]
    assert "张伟（甲局）提交了进展（第1次，通过企业微信）" in zh
    assert "张伟（甲局）申请延期：新时限 12月31日（原为 12月14日，通过网页）" in zh
    assert "刘洋同意了延期申请：新时限 12月31日" in zh
    # the unit an entry concerns is the assignment's (乙局 since the transfer); who filed a
    # report or a request is named with their own unit (甲局), then as now
    assert "乙局的完成时限调整为 12月31日（原为 12月14日）" in zh
    assert "刘洋将甲局 张伟的任务转办给乙局 赵六" in zh
    assert any(text.startswith("审核提醒发送失败：刘洋（") for text in zh)
    for text in zh:
        assert not RAW.search(text), text
    en = [line.text for line in history(entries, "en")]
    assert "刘洋 approved the extension: new deadline 31 Dec" in en
    for text in en:
        assert not HAN.search(re.sub(r"[张伟刘洋赵六甲乙局]", "", text)), text
