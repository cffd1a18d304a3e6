"""Replies to reminders (bot.replies): filed in batches by supervision.reports.ReplyFiler,
through the dispatcher like every update, the confirmation in the webhook's answer.

Replies go through the real web app and webhook route (aiogram's request handler); the fake
Bot API plays Telegram, posting updates and executing the method a webhook answer carries.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Message, Update
from sqlalchemy import event, func, select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.dispatcher import filer_of
from bot.replies import receipt_of, reply_in_private
from bot.states import ReportFlow
from bot.updates import UpdateReceipts
from models import Assignment, AuditEvent, ItemState, Person, Report, TelegramUpdate
from models.db import create_sessionmaker
from supervision.access import NotPermitted
from supervision.clock import FixedClock
from supervision.reports import (
    ChatReply,
    ReplyFiled,
    ReplyFiler,
    ReplyNotFiled,
    ReportIn,
    Unfiled,
    file_reports,
)
from testing.bot_harness import Harness, harness
from testing.bot_world import OUTSIDER_TG, OWNER_TG, World, build_world
from web.app import WebConfig, WebDeps, create_app
from web.telegram import setup_telegram_webhook

# Runs on SQLite and PostgreSQL: the update log and the reply batches differ by dialect.
pytestmark = pytest.mark.dialects

SECRET = "reply-s3cret"


async def _serve(h: Harness, aiohttp_client_factory: Any) -> None:
    """Mount the webhook and point the fake's setWebhook at it."""
    deps = WebDeps(config=WebConfig(secret_key="x"), sessions=h.sessions, clock=h.clock)
    part = partial(setup_telegram_webhook, dispatcher=h.dp, bot=h.bot, secret=SECRET)
    client = await aiohttp_client_factory(create_app(deps, [part]))
    await h.bot.set_webhook(str(client.make_url("/telegram/webhook")), secret_token=SECRET)


async def _reports(h: Harness) -> list[Report]:
    async with h.sessions() as session:
        return list((await session.scalars(select(Report).order_by(Report.id))).all())


async def _filed_events(h: Harness) -> list[dict[str, Any]]:
    async with h.sessions() as session:
        events = await session.scalars(
            select(AuditEvent).where(AuditEvent.action == "filed").order_by(AuditEvent.id)
        )
        return [dict(e.detail, actor=e.actor_id) for e in events]


async def _logged(h: Harness, update_id: int) -> TelegramUpdate:
    async with h.sessions() as session:
        return await session.get_one(TelegramUpdate, update_id)


async def _assignment(h: Harness, assignment_id: int) -> Assignment:
    async with h.sessions() as session:
        return await session.get_one(Assignment, assignment_id)


def _chat_reply(h: Harness, raw: dict[str, Any]) -> ChatReply:
    """What the reply handler hands the filer for the update ``raw``."""
    update = Update.model_validate(raw, context={"bot": h.bot})
    message = update.message
    assert message is not None and message.from_user is not None
    assert message.reply_to_message is not None and message.text is not None
    return ChatReply(
        sender=message.from_user.id,
        chat_id=message.chat.id,
        message_id=message.message_id,
        replied_to=message.reply_to_message.message_id,
        text=message.text,
        receipt=receipt_of(update),
    )


async def test_only_private_replies_with_content_go_to_the_filer() -> None:
    reply = {"message_id": 7, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "提醒"}
    message = {
        "message_id": 8,
        "date": 2,
        "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "张三"},
        "text": "进展",
        "reply_to_message": reply,
    }
    photo = [{"file_id": "f1", "file_unique_id": "u1", "width": 9, "height": 9}]
    with_file = {k: v for k, v in message.items() if k != "text"} | {"photo": photo}
    assert await reply_in_private(Message.model_validate(message))
    assert await reply_in_private(Message.model_validate(with_file))
    not_taken = [
        {**message, "text": "/my"},  # a command
        {**message, "text": "  "},  # nothing to file
        {k: v for k, v in message.items() if k != "text"},
        {k: v for k, v in message.items() if k != "reply_to_message"},
        {**with_file, "media_group_id": "g1"},  # an album: the album handler joins it
        {**message, "chat": {"id": -5, "type": "group"}},
        {**message, "from": {**message["from"], "is_bot": True}},
    ]
    for data in not_taken:
        assert not await reply_in_private(Message.model_validate(data)), data


async def test_a_reply_through_the_webhook_files_as_one_through_polling_does(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    # The first reply fed as long polling feeds it, the second through the webhook.
    first = h.fake.make_private_message(OWNER_TG, "第一次进展", reply_to=reminder)
    await h.feed(first)
    first_text = h.last_text(OWNER_TG)
    first_next = (await _assignment(h, world.a_document.id)).next_action_at
    second = h.fake.make_private_message(OWNER_TG, "第二次进展", reply_to=reminder)
    assert await h.fake.post_webhook(second) == 200
    # The confirmation rode in the webhook's answer: the fake executed its sendMessage.
    assert h.fake.requests[-1].method.lower() == "sendmessage"
    assert h.last_text(OWNER_TG) == first_text.replace("第1次", "第2次")
    assert await h.fake.post_webhook(second) == 200  # a replay: skipped, no second report
    one, two = await _reports(h)
    assert (one.number, two.number) == (1, 2)
    for report, text in ((one, "第一次进展"), (two, "第二次进展")):
        assert report.author_id == world.owner.id and report.assignment_id == world.a_document.id
        assert (report.text, report.channel, report.kind) == (text, "chat", "progress")
        assert report.chat_id == OWNER_TG
    e1, e2 = await _filed_events(h)
    assert e2 == {**e1, "number": 2}
    assert (await _assignment(h, world.a_document.id)).next_action_at == first_next
    for update in (first, second):
        logged = await _logged(h, update["update_id"])
        assert (logged.status, logged.attempts) == ("done", 1)
    assert len(h.fake.sent_to(OWNER_TG)) == 3  # the reminder and two confirmations


async def test_a_replayed_webhook_files_once_and_confirms_once(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    update = h.fake.make_private_message(OWNER_TG, "只报一次", reply_to=reminder)
    sent_before = len(h.fake.sent_to(OWNER_TG))
    assert await h.fake.post_webhook(update) == 200
    assert await h.fake.post_webhook(update) == 200
    assert [r.text for r in await _reports(h)] == ["只报一次"]
    assert len(h.fake.sent_to(OWNER_TG)) == sent_before + 1
    assert (await _logged(h, update["update_id"])).status == "done"


async def test_one_batch_files_the_good_and_leaves_the_rest_to_the_flows(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    await _serve(h, aiohttp_client_factory)
    filer = filer_of(h.dp)
    reminder = await h.remind(world.owner, world.a_document)
    # The outsider got a message about an assignment of another unit: not theirs to report on.
    foreign = await h.remind(world.outsider, world.a_document)
    stray = h.fake.make_private_message(OWNER_TG, "随便说说")
    good = h.fake.make_private_message(OWNER_TG, "正常进展", reply_to=reminder)
    twice = h.fake.make_private_message(OWNER_TG, "同一条消息两次", reply_to=reminder)
    refused = h.fake.make_private_message(OUTSIDER_TG, "越权填报", reply_to=foreign)
    unknown = h.fake.make_private_message(OWNER_TG, "回复我自己的消息", reply_to=None)
    unknown["message"]["reply_to_message"] = stray["message"]  # a reply to the person's own
    stranger = h.fake.make_private_message(4242, "我是谁", reply_to=reminder)
    batch = [good, twice, twice, refused, unknown, stranger]
    outcomes = await filer.file_batch([_chat_reply(h, u) for u in batch])
    filed = [o for o in outcomes[:2] if isinstance(o, ReplyFiled)]
    assert [(f.report.number, f.report.text) for f in filed] == [
        (1, "正常进展"),
        (2, "同一条消息两次"),
    ]
    assert filed[0].item.id == world.a_document.item_id and filed[0].author.id == world.owner.id
    assert outcomes[2] == ReplyNotFiled(Unfiled.SEEN)  # the same update twice
    assert isinstance(outcomes[3], ReplyNotFiled) and outcomes[3].why == Unfiled.REFUSED
    assert isinstance(outcomes[3].error, NotPermitted)
    assert outcomes[4:] == [ReplyNotFiled(Unfiled.ELSEWHERE), ReplyNotFiled(Unfiled.STRANGER)]
    # The refused update is stored, but pending: the flows answer it as they always did.
    assert (await _logged(h, refused["update_id"])).status == "pending"
    assert await h.fake.post_webhook(refused) == 200
    assert "无权" in h.last_text(OUTSIDER_TG)
    assert (await _logged(h, refused["update_id"])).status == "done"
    # Not a reminder: the person's open items are offered.
    assert await h.fake.post_webhook(unknown) == 200
    assert h.last_text(OWNER_TG) == "请选择要报告的事项："
    # Someone not bound is told how to get an invite; nothing was stored for them before.
    assert await h.fake.post_webhook(stranger) == 200
    assert "邀请" in h.last_text(4242)
    assert [r.text for r in await _reports(h)] == ["正常进展", "同一条消息两次"]


async def test_a_batch_reads_people_reminders_and_logs_updates_once_for_all_its_replies(
    h: Harness, world: World
) -> None:
    """People, reminders and the update log are per batch, not per reply."""
    first = await h.remind(world.owner, world.a_document)
    second = await h.remind(world.outsider, world.a_outside)
    engine = h.sessions.kw["bind"]
    batches: list[list[str]] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        batches[-1].append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        for replies in (
            [h.fake.make_private_message(OWNER_TG, "一条", reply_to=first)],
            [
                h.fake.make_private_message(OWNER_TG, "三条之一", reply_to=first),
                h.fake.make_private_message(OUTSIDER_TG, "三条之二", reply_to=second),
                h.fake.make_private_message(OWNER_TG, "三条之三", reply_to=first),
            ],
        ):
            batches.append([])
            outcomes = await filer_of(h.dp).file_batch([_chat_reply(h, u) for u in replies])
            assert all(isinstance(o, ReplyFiled) for o in outcomes)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    for statements in batches:
        for table in ("FROM people", "FROM notifications", "INTO telegram_updates"):
            assert sum(table in st for st in statements) == 1, (table, statements)
    assert [r.number for r in await _reports(h)] == [1, 2, 1, 3]


async def test_a_closed_assignment_gets_the_flows_answer(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    async with h.sessions() as session, session.begin():
        (await session.get_one(Assignment, world.a_document.id)).state = ItemState.CLOSED.value
    update = h.fake.make_private_message(OWNER_TG, "已经办结了", reply_to=reminder)
    assert await h.fake.post_webhook(update) == 200
    assert await _reports(h) == []
    assert "已办结" in h.last_text(OWNER_TG)
    assert (await _logged(h, update["update_id"])).status == "done"


async def test_a_reply_to_a_request_shows_the_request_again(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    await _serve(h, aiohttp_client_factory)
    request = await h.remind(world.owner, world.a_document, step="review_request")
    update = h.fake.make_private_message(OWNER_TG, "这是什么", reply_to=request)
    outcome = await filer_of(h.dp).file_batch([_chat_reply(h, update)])
    assert outcome == [ReplyNotFiled(Unfiled.ELSEWHERE)]
    assert await _reports(h) == []


async def test_a_person_in_a_dialog_is_left_to_the_dialog(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    state = h.dp.fsm.get_context(h.bot, OWNER_TG, OWNER_TG)
    await state.set_state(ReportFlow.text)
    await state.set_data({"aid": world.a_instruction.id})
    update = h.fake.make_private_message(OWNER_TG, "对话里的回答", reply_to=reminder)
    assert await h.fake.post_webhook(update) == 200
    # The dialog asked for a report on the instruction, so the text goes there.
    [report] = await _reports(h)
    assert report.assignment_id == world.a_instruction.id
    assert await state.get_state() is None


async def test_a_reply_waits_for_the_persons_update_in_progress(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    """A button press still being handled (its dialog not yet set) holds the person's lock."""
    await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    state = h.dp.fsm.get_context(h.bot, OWNER_TG, OWNER_TG)
    update = h.fake.make_private_message(OWNER_TG, "按钮之后的回答", reply_to=reminder)
    async with h.dp.fsm.events_isolation.lock(state.key):  # the dispatcher's update in progress
        feeding = asyncio.create_task(h.feed(update))
        for _ in range(5):
            await asyncio.sleep(0)
        assert not feeding.done()  # the reply waits for the lock
        await state.set_state(ReportFlow.text)  # the press opened a dialog
        await state.set_data({"aid": world.a_instruction.id})
    await feeding
    [report] = await _reports(h)  # the dialog took it
    assert report.assignment_id == world.a_instruction.id


async def test_dialog_state_in_redis_is_respected(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, world: World, redis_url: str
) -> None:
    async with harness(sessions, clock, storage=RedisStorage.from_url(redis_url)) as h:
        owner = await h.remind(world.owner, world.a_document)
        outsider = await h.remind(world.outsider, world.a_outside)
        await h.dp.fsm.get_context(h.bot, OWNER_TG, OWNER_TG).set_state(ReportFlow.text)
        await h.dp.fsm.get_context(h.bot, OWNER_TG, OWNER_TG).set_data(
            {"aid": world.a_instruction.id}
        )
        await asyncio.gather(
            h.feed(h.fake.make_private_message(OWNER_TG, "在对话中", reply_to=owner)),
            h.feed(h.fake.make_private_message(OUTSIDER_TG, "不在对话中", reply_to=outsider)),
        )
        by_text = {r.text: r.assignment_id for r in await _reports(h)}
        assert by_text == {"在对话中": world.a_instruction.id, "不在对话中": world.a_outside.id}


async def test_a_failed_batch_leaves_each_update_to_the_flows(
    h: Harness, world: World, aiohttp_client_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("batch broke")

    monkeypatch.setattr(filer_of(h.dp), "file_batch", broken)
    update = h.fake.make_private_message(OWNER_TG, "批量失败也不丢", reply_to=reminder)
    assert await h.fake.post_webhook(update) == 200
    assert [r.text for r in await _reports(h)] == ["批量失败也不丢"]
    assert "第1次" in h.last_text(OWNER_TG)
    assert (await _logged(h, update["update_id"])).status == "done"


async def test_replies_at_once_are_filed_in_overlapping_batches_with_distinct_numbers(
    h: Harness, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One reply per batch: the next batch starts while the previous one commits (PostgreSQL).
    filer = ReplyFiler(h.sessions, h.clock, receipts=UpdateReceipts(h.clock), max_batch=1)
    assert filer.in_flight == (1 if h.sessions.kw["bind"].dialect.name == "sqlite" else 2)
    file_batch, running, most = filer.file_batch, 0, 0

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            return await file_batch(*args, **kwargs)
        finally:
            running -= 1

    monkeypatch.setattr(filer, "file_batch", counted)
    reminder = await h.remind(world.owner, world.a_document)
    updates = [
        h.fake.make_private_message(OWNER_TG, f"进展{n}", reply_to=reminder) for n in range(6)
    ]
    outcomes = await asyncio.gather(*(filer.file(_chat_reply(h, u)) for u in updates))
    await filer.close()
    assert most == filer.in_flight
    reports = await _reports(h)
    assert sorted(r.number for r in reports) == [1, 2, 3, 4, 5, 6]
    numbers = {r.chat_message_id: r.number for r in reports}
    for update, outcome in zip(updates, outcomes, strict=True):
        assert isinstance(outcome, ReplyFiled)
        assert outcome.report.number == numbers[update["message"]["message_id"]]
        assert (await _logged(h, update["update_id"])).status == "done"


async def _filer(
    sessions: async_sessionmaker[AsyncSession], world: World, message_id: int, clock: FixedClock
) -> Report:
    """File one reply on the document assignment in a transaction of its own."""
    async with sessions() as session, session.begin():
        return await _file_one(session, world, message_id, clock)


async def _file_one(
    session: AsyncSession, world: World, message_id: int, clock: FixedClock
) -> Report:
    owner = await session.scalar(
        select(Person).options(selectinload(Person.role_links)).where(Person.id == world.owner.id)
    )
    assignment = await session.get_one(Assignment, world.a_document.id)
    assert owner is not None
    request = ReportIn(
        assignment=assignment,
        author=owner,
        text=f"消息{message_id}",
        chat_id=OWNER_TG,
        chat_message_id=message_id,
    )
    [report] = await file_reports(session, [request], clock=clock)
    assert isinstance(report, Report)
    return report


@pytest.mark.postgres
async def test_a_second_batch_waits_for_the_first_and_takes_the_next_number(
    pg_engine: AsyncEngine, clock: FixedClock
) -> None:
    sessions = create_sessionmaker(pg_engine)
    async with sessions() as session:
        world = await build_world(session)
    async with sessions() as first, first.begin():
        one = await _file_one(first, world, 11, clock)
        second = asyncio.create_task(_filer(sessions, world, 12, clock))
        # The second transaction blocks on the assignment row the first one locked.
        for _ in range(1000):
            async with pg_engine.connect() as conn:
                waiting = await conn.scalar(
                    sql(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                )
            if waiting or second.done():
                break
            await asyncio.sleep(0.01)
        assert waiting == 1 and not second.done()
    two = await second
    assert (one.number, two.number) == (1, 2)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 2
