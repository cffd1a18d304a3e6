"""End to end through aiogram and the fake Bot API: reminders answered with reports."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from models import Assignment, Person, Report, ReportRevision, TelegramUpdate
from testing.bot_harness import Harness
from testing.bot_world import LIAISON_TG, OUTSIDER_TG, OWNER_TG, World


async def _reports(h: Harness) -> list[Report]:
    async with h.sessions() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def test_reply_to_reminder_files_a_report_with_its_attachment(
    h: Harness, world: World
) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    doc = h.fake.add_file(b"%PDF-1.4 ...", "进展材料.pdf", "application/pdf")
    update = h.fake.make_private_message(
        OWNER_TG, "项目已开工，材料见附件", reply_to=reminder, document=doc
    )
    await h.feed(update)

    [report] = await _reports(h)
    assert report.assignment_id == world.a_document.id
    assert report.author_id == world.owner.id and report.number == 1
    assert report.text == "项目已开工，材料见附件" and report.channel == "chat"
    [att] = report.attachments
    assert (att.file_id, att.file_name, att.mime_type, att.size) == (
        doc["file_id"],
        "进展材料.pdf",
        "application/pdf",
        len(b"%PDF-1.4 ..."),
    )
    confirmation = h.last_text(OWNER_TG)
    assert "年度项目推进" in confirmation and "第1次" in confirmation and "绿灯" in confirmation
    async with h.sessions() as session:
        a = await session.get_one(Assignment, world.a_document.id)
        assert a.last_report_at == h.clock.now() and a.next_action_at is not None
        logged = await session.get_one(TelegramUpdate, update["update_id"])
        assert (logged.status, logged.attempts) == ("done", 1)


async def test_a_replayed_update_is_handled_once(h: Harness, world: World) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    update = h.fake.make_private_message(OWNER_TG, "进展一", reply_to=reminder)
    await h.feed(update)
    sent_before = len(h.fake.sent)
    await h.feed(update)
    await h.feed(update)
    assert len(await _reports(h)) == 1
    assert len(h.fake.sent) == sent_before


async def test_photo_caption_is_the_text_and_largest_photo_is_kept(
    h: Harness, world: World
) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    photo = [
        {"file_id": "SMALL", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 900},
        {"file_id": "BIG", "file_unique_id": "b", "width": 1280, "height": 960, "file_size": 90000},
    ]
    await h.feed(h.fake.make_private_message(OWNER_TG, "现场照片", reply_to=reminder, photo=photo))
    [report] = await _reports(h)
    assert report.text == "现场照片"
    assert [a.file_id for a in report.attachments] == ["BIG"]


async def test_liaison_may_answer_but_someone_elses_reply_files_nothing(
    h: Harness, world: World
) -> None:
    to_liaison = await h.remind(world.liaison, world.a_document, step="urge")
    await h.feed(h.fake.make_private_message(LIAISON_TG, "联络员代报", reply_to=to_liaison))
    assert [r.author_id for r in await _reports(h)] == [world.liaison.id]
    # The outsider got a reminder for their own item; it maps to their own assignment only.
    to_outsider = await h.remind(world.outsider, world.a_outside)
    await h.feed(h.fake.make_private_message(OUTSIDER_TG, "我的进展", reply_to=to_outsider))
    assert [r.assignment_id for r in await _reports(h)] == [world.a_document.id, world.a_outside.id]


async def test_non_reply_with_several_items_offers_buttons_then_files(
    h: Harness, world: World
) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "本周完成了方案评审"))
    offer = h.fake.sent_to(OWNER_TG)[-1]
    assert offer.reply_markup is not None
    buttons = [b for row in offer.reply_markup["inline_keyboard"] for b in row]
    assert {b["text"] for b in buttons} >= {"落实省长批示整改", "年度项目推进"}
    assert await _reports(h) == []
    pick = next(b for b in buttons if b["text"] == "年度项目推进")
    await h.feed(h.fake.make_callback_query(OWNER_TG, offer, pick["callback_data"]))
    [report] = await _reports(h)
    assert report.assignment_id == world.a_document.id and report.text == "本周完成了方案评审"
    assert "第1次" in h.last_text(OWNER_TG)


async def test_non_reply_with_one_item_asks_to_confirm(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OUTSIDER_TG, "已完成调研"))
    ask = h.fake.sent_to(OUTSIDER_TG)[-1]
    assert "年度项目推进" in ask.text and ask.reply_markup is not None
    yes = ask.reply_markup["inline_keyboard"][0][0]
    await h.feed(h.fake.make_callback_query(OUTSIDER_TG, ask, yes["callback_data"]))
    [report] = await _reports(h)
    assert report.assignment_id == world.a_outside.id


async def test_report_command_then_text(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OUTSIDER_TG, "/report"))
    ask = h.fake.sent_to(OUTSIDER_TG)[-1]
    assert ask.reply_markup is not None
    await h.feed(
        h.fake.make_callback_query(
            OUTSIDER_TG, ask, ask.reply_markup["inline_keyboard"][0][0]["callback_data"]
        )
    )
    assert "请发送" in h.last_text(OUTSIDER_TG)
    await h.feed(h.fake.make_private_message(OUTSIDER_TG, "按计划推进"))
    [report] = await _reports(h)
    assert report.text == "按计划推进"


async def test_my_lists_open_items_with_light_deadline_and_days_left(
    h: Harness, world: World
) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/my"))
    text = h.last_text(OWNER_TG)
    assert "落实省长批示整改" in text and "2026-12-14" in text and "剩余" in text
    assert "🟢" in text
    assert "市教育局" not in text


async def test_edit_within_window_updates_report_and_keeps_history(
    h: Harness, world: World
) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    original = h.fake.make_private_message(OWNER_TG, "完成百分之五十", reply_to=reminder)
    await h.feed(original)
    h.clock.advance(timedelta(hours=2))
    await h.feed(h.fake.make_edited_message(original, "完成百分之六十"))
    [report] = await _reports(h)
    assert report.text == "完成百分之六十"
    async with h.sessions() as session:
        history = (await session.scalars(select(ReportRevision.text))).all()
    assert history == ["完成百分之五十"]
    h.clock.advance(timedelta(hours=47))
    await h.feed(h.fake.make_edited_message(original, "太晚的修改"))
    assert (await _reports(h))[0].text == "完成百分之六十"
    assert "48" in h.last_text(OWNER_TG)


async def test_stickers_and_locations_get_a_polite_answer(h: Harness, world: World) -> None:
    for extra in (
        {
            "sticker": {
                "file_id": "S",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            }
        },
        {"location": {"latitude": 32.06, "longitude": 118.79}},
        {"voice": {"file_id": "V", "file_unique_id": "v", "duration": 3}},
    ):
        update = h.fake.make_private_message(OWNER_TG, None)
        update["message"].update(extra)
        await h.feed(update)
        assert "请发送文字或文件" in h.last_text(OWNER_TG)
    assert await _reports(h) == []


async def test_over_long_text_is_refused_without_crash(h: Harness, world: World) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    update = h.fake.make_private_message(OWNER_TG, "长" * 9000, reply_to=reminder)
    await h.feed(update)
    assert await _reports(h) == []
    assert "过长" in h.last_text(OWNER_TG)
    async with h.sessions() as session:
        logged = await session.get_one(TelegramUpdate, update["update_id"])
        assert logged.status == "done"
        assert await session.scalar(select(func.count()).select_from(Report)) == 0


async def test_group_chat_gets_one_line(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_group_message(-100123, OWNER_TG, "/my"))
    [answer] = h.fake.sent_to(-100123)
    assert "私聊" in answer.text and "\n" not in answer.text
    assert "落实省长批示整改" not in answer.text


async def test_report_button_under_a_delivered_reminder(h: Harness, world: World) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    assert reminder.reply_markup is not None
    [button] = [
        b
        for row in reminder.reply_markup["inline_keyboard"]
        for b in row
        if b["text"] == "填报进展"
    ]
    await h.feed(h.fake.make_callback_query(OWNER_TG, reminder, button["callback_data"]))
    assert "年度项目推进" in h.last_text(OWNER_TG)
    await h.feed(h.fake.make_private_message(OWNER_TG, "通过按钮填报"))
    [report] = await _reports(h)
    assert (report.assignment_id, report.text) == (world.a_document.id, "通过按钮填报")


async def test_an_album_reply_files_one_report_with_every_file(h: Harness, world: World) -> None:
    reminder = await h.remind(world.owner, world.a_document)
    parts = []
    for n, caption in enumerate(("现场照片三张", None, None), start=1):
        photo = {"file_id": f"ALB{n}", "file_unique_id": f"alb{n}", "file_size": 100 * n}
        update = h.fake.make_private_message(OWNER_TG, caption, reply_to=reminder, photo=photo)
        update["message"]["media_group_id"] = "13579"
        parts.append(update)
    await asyncio.gather(*(h.feed(u) for u in parts))  # an album arrives all at once
    [report] = await _reports(h)
    assert report.text == "现场照片三张"
    assert sorted(a.file_id for a in report.attachments) == ["ALB1", "ALB2", "ALB3"]
    confirmations = [t for t in h.texts(OWNER_TG) if "第1次" in t]
    assert len(confirmations) == 1


async def test_english_speaking_person_gets_english(h: Harness, world: World) -> None:
    async with h.sessions() as session, session.begin():
        owner = await session.get_one(Person, world.owner.id)
        owner.locale = "en"
    await h.feed(h.fake.make_private_message(OWNER_TG, "/my"))
    text = h.last_text(OWNER_TG)
    assert "Your open supervised items" in text and "working days left" in text
    reminder = await h.remind(world.owner, world.a_document)
    await h.feed(h.fake.make_private_message(OWNER_TG, "on track", reply_to=reminder))
    assert "Report #1" in h.last_text(OWNER_TG) and "green" in h.last_text(OWNER_TG)
