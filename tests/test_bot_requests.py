"""End to end: extension -> approval -> new deadline; completion -> sign-off -> closed."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

from sqlalchemy import select

from models import Assignment, AuditEvent, Extension, Item, Notification, Report
from models.report import ReviewState
from testing.bot_harness import Harness
from testing.bot_world import OWNER_TG, PRINCIPAL_TG, SUPERVISOR_TG, World
from testing.fakes.telegram import SentMessage


def buttons(message: SentMessage) -> list[dict[str, Any]]:
    assert message.reply_markup is not None
    return [b for row in message.reply_markup["inline_keyboard"] for b in row]


async def press(h: Harness, user: int, message: SentMessage, text: str) -> None:
    button = next(b for b in buttons(message) if b["text"] == text)
    await h.feed(h.fake.make_callback_query(user, message, button["callback_data"]))


async def _assignment(h: Harness, aid: int) -> Assignment:
    async with h.sessions() as session:
        return await session.get_one(Assignment, aid)


async def _outbox_kinds(h: Harness, recipient_id: int) -> list[str]:
    async with h.sessions() as session:
        rows = await session.scalars(
            select(Notification.kind).where(
                Notification.recipient_id == recipient_id, Notification.channel == "telegram"
            )
        )
        return list(rows)


async def test_extension_by_reminder_button_approved_moves_deadline_and_ladder(
    h: Harness, world: World
) -> None:
    before = await _assignment(h, world.a_document.id)
    reminder = await h.remind(world.owner, world.a_document)
    await press(h, OWNER_TG, reminder, "申请延期")  # the button delivery put under it
    assert "原因" in h.last_text(OWNER_TG)
    await h.feed(h.fake.make_private_message(OWNER_TG, "需等待省厅批复"))
    await h.feed(h.fake.make_private_message(OWNER_TG, "方案已报送"))
    assert "2026-12-21" in h.last_text(OWNER_TG)
    await h.feed(h.fake.make_private_message(OWNER_TG, "1月29日"))
    assert "2027-01-29" in h.last_text(OWNER_TG)
    assert "review_request" in await _outbox_kinds(h, world.supervisor.id)

    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "/review"))
    request = h.fake.sent_to(SUPERVISOR_TG)[-1]
    assert "需等待省厅批复" in request.text and "2027-01-29" in request.text
    await press(h, SUPERVISOR_TG, request, "同意")

    after = await _assignment(h, world.a_document.id)
    assert after.due_on == date(2027, 1, 29)
    assert after.next_action_at != before.next_action_at
    async with h.sessions() as session:
        ext = await session.scalar(select(Extension))
        assert ext is not None and ext.state == ReviewState.APPROVED
        assert ext.decided_by_id == world.supervisor.id
        actions = set((await session.scalars(select(AuditEvent.action))).all())
    assert {"requested", "reviewed", "due_moved"} <= actions
    assert "review_outcome" in await _outbox_kinds(h, world.owner.id)
    # The same 同意 pressed again is stale.
    await press(h, SUPERVISOR_TG, request, "同意")
    assert "失效" in h.fake.answers[-1]["text"]


async def test_extension_date_from_the_picker_and_bad_dates(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/extend"))
    await press(h, OWNER_TG, h.fake.sent_to(OWNER_TG)[-1], "年度项目推进")
    await h.feed(h.fake.make_private_message(OWNER_TG, "原因"))
    await h.feed(h.fake.make_private_message(OWNER_TG, "进展"))
    picker = h.fake.sent_to(OWNER_TG)[-1]
    texts = [b["text"] for b in buttons(picker)]
    assert "2026年12月" in texts
    await h.feed(h.fake.make_private_message(OWNER_TG, "12月1日"))  # not later than due
    assert "须晚于" in h.last_text(OWNER_TG)
    await h.feed(h.fake.make_private_message(OWNER_TG, "下周五"))
    assert "看不懂" in h.last_text(OWNER_TG)
    await press(h, OWNER_TG, picker, "›")  # next month, then pick the 15th
    await h.feed(h.fake.make_callback_query(OWNER_TG, picker, "dp:d:20270115"))
    async with h.sessions() as session:
        ext = await session.scalar(select(Extension))
    assert ext is not None and ext.new_due_on == date(2027, 1, 15) and ext.reason == "原因"


async def test_completion_of_an_instruction_needs_signoff_then_closes(
    h: Harness, world: World
) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/complete"))
    await press(h, OWNER_TG, h.fake.sent_to(OWNER_TG)[-1], "落实省长批示整改")
    doc = h.fake.add_file(b"report", "整改报告.docx", "application/msword")
    await h.feed(h.fake.make_private_message(OWNER_TG, "整改已全部完成", document=doc))
    assert "签发" in h.last_text(OWNER_TG)
    assert "signoff_request" in await _outbox_kinds(h, world.principal.id)
    assert "review_request" not in await _outbox_kinds(h, world.supervisor.id)

    # The supervisor cannot see it before sign-off.
    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "/review"))
    assert "没有待审核" in h.last_text(SUPERVISOR_TG)

    await h.feed(h.fake.make_private_message(PRINCIPAL_TG, "/signoff"))
    await press(h, PRINCIPAL_TG, h.fake.sent_to(PRINCIPAL_TG)[-1], "签发")
    assert "review_request" in await _outbox_kinds(h, world.supervisor.id)

    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "/review"))
    await press(h, SUPERVISOR_TG, h.fake.sent_to(SUPERVISOR_TG)[-1], "同意")
    a = await _assignment(h, world.a_instruction.id)
    assert a.state == "closed"
    async with h.sessions() as session:
        item = await session.get_one(Item, world.instruction.id)
        report = await session.scalar(select(Report))
    assert item.state == "closed"
    assert report is not None and report.signed_off_by_id == world.principal.id
    assert [x.file_name for x in report.attachments] == ["整改报告.docx"]
    assert "review_outcome" in await _outbox_kinds(h, world.owner.id)


async def test_reject_asks_for_a_comment_and_reopens(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/complete"))
    await press(h, OWNER_TG, h.fake.sent_to(OWNER_TG)[-1], "年度项目推进")
    await h.feed(h.fake.make_private_message(OWNER_TG, "已完成"))
    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "/review"))
    await press(h, SUPERVISOR_TG, h.fake.sent_to(SUPERVISOR_TG)[-1], "退回")
    assert "退回意见" in h.last_text(SUPERVISOR_TG)
    assert (await _assignment(h, world.a_document.id)).state == "completion_requested"
    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "请补充验收材料"))
    a = await _assignment(h, world.a_document.id)
    assert a.state == "open"
    async with h.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None and report.review_comment == "请补充验收材料"
    assert report.review_state == ReviewState.REJECTED


async def test_a_photo_where_text_is_needed_keeps_the_dialog(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/extend"))
    await press(h, OWNER_TG, h.fake.sent_to(OWNER_TG)[-1], "年度项目推进")
    sticker = h.fake.make_private_message(OWNER_TG, None)
    sticker["message"]["photo"] = [{"file_id": "P", "file_unique_id": "p", "width": 1, "height": 1}]
    await h.feed(sticker)
    assert "文字" in h.last_text(OWNER_TG)
    await h.feed(h.fake.make_private_message(OWNER_TG, "原因"))
    assert "进展" in h.last_text(OWNER_TG)
    await h.feed(h.fake.make_private_message(OWNER_TG, "/cancel"))
    assert "已取消" in h.last_text(OWNER_TG)
    await h.feed(h.fake.make_private_message(OWNER_TG, "2027-01-29"))
    async with h.sessions() as session:
        assert await session.scalar(select(Extension)) is None


async def test_replying_to_review_and_signoff_requests_shows_their_buttons(
    h: Harness, world: World
) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/complete"))
    await press(h, OWNER_TG, h.fake.sent_to(OWNER_TG)[-1], "落实省长批示整改")
    await h.feed(h.fake.make_private_message(OWNER_TG, "整改完成"))
    async with h.sessions() as session:
        report = await session.scalar(select(Report))
    assert report is not None
    # The notifier delivered the sign-off request; the principal answers it with a reply.
    request = await h.remind(
        world.principal, world.a_instruction, "signoff_request", {"report_id": report.id}
    )
    await h.feed(h.fake.make_private_message(PRINCIPAL_TG, "收到", reply_to=request))
    await press(h, PRINCIPAL_TG, h.fake.sent_to(PRINCIPAL_TG)[-1], "签发")
    request = await h.remind(
        world.supervisor, world.a_instruction, "review_request", {"report_id": report.id}
    )
    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "看看", reply_to=request))
    card = h.fake.sent_to(SUPERVISOR_TG)[-1]
    assert "整改完成" in card.text
    await press(h, SUPERVISOR_TG, card, "同意")
    assert (await _assignment(h, world.a_instruction.id)).state == "closed"
    async with h.sessions() as session:
        assert len((await session.scalars(select(Report))).all()) == 1  # no report was filed
    # Replying again to the handled request: it has expired, nothing changes.
    await h.feed(h.fake.make_private_message(SUPERVISOR_TG, "再看看", reply_to=request))
    assert "已处理" in h.last_text(SUPERVISOR_TG)  # the request was decided


async def test_completion_summary_sent_as_an_album_is_one_report(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/complete"))
    await press(h, OWNER_TG, h.fake.sent_to(OWNER_TG)[-1], "年度项目推进")
    album = []
    for n, caption in enumerate(("验收材料", None), start=1):
        doc = h.fake.add_file(b"x" * n, f"材料{n}.pdf", "application/pdf")
        update = h.fake.make_private_message(OWNER_TG, caption, document=doc)
        update["message"]["media_group_id"] = "24680"
        album.append(update)
    await asyncio.gather(*(h.feed(u) for u in album))
    async with h.sessions() as session:
        [report] = (await session.scalars(select(Report))).all()
    assert report.kind == "completion" and report.text == "验收材料"
    assert sorted(a.file_name or "" for a in report.attachments) == ["材料1.pdf", "材料2.pdf"]
    assert not any("未完成" in t for t in h.texts(OWNER_TG))
