"""The webhook's fast path (bot.ingest): the same outcome as the dispatcher, or the dispatcher.

Replies go through the real web app and webhook route; the fake Bot API plays Telegram,
posting updates and executing the method a webhook answer carries.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

import pytest
from aiogram.fsm.storage.redis import RedisStorage
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

import bot.ingest
from bot.ingest import ReplyIngest, classify
from bot.states import ReportFlow
from models import Assignment, AuditEvent, ItemState, Person, Report, TelegramUpdate
from models.db import create_sessionmaker
from supervision.clock import FixedClock
from supervision.reports import ReportIn, file_reports
from testing.bot_harness import Harness, harness
from testing.bot_world import OUTSIDER_TG, OWNER_TG, World, build_world
from web.app import WebConfig, WebDeps, create_app
from web.telegram import setup_telegram_webhook

# Runs on SQLite and PostgreSQL: the update log and the reply batches differ by dialect.
pytestmark = pytest.mark.dialects

SECRET = "fast-s3cret"


async def _serve(h: Harness, aiohttp_client_factory: Any) -> ReplyIngest:
    """Mount the webhook with the fast path and point the fake's setWebhook at it."""
    ingest = ReplyIngest(h.dp, h.bot, h.sessions, h.config, h.clock)
    deps = WebDeps(config=WebConfig(secret_key="x"), sessions=h.sessions, clock=h.clock)
    part = partial(
        setup_telegram_webhook, dispatcher=h.dp, bot=h.bot, secret=SECRET, fast_path=ingest
    )
    client = await aiohttp_client_factory(create_app(deps, [part]))
    await h.bot.set_webhook(str(client.make_url("/telegram/webhook")), secret_token=SECRET)
    return ingest


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


def test_only_plain_private_text_replies_are_classified() -> None:
    reply = {
        "message_id": 7,
        "date": 1,
        "chat": {"id": 5, "type": "private"},
        "text": "提醒",
    }
    message = {
        "message_id": 8,
        "date": 2,
        "chat": {"id": 5, "type": "private"},
        "from": {"id": 5, "is_bot": False, "first_name": "张三"},
        "text": "进展",
        "reply_to_message": reply,
    }
    assert classify({"update_id": 1, "message": message}) is not None
    not_taken = [
        {"update_id": 1, "message": {**message, "text": "/my"}},  # a command
        {"update_id": 1, "message": {**message, "text": "  "}},  # nothing to file
        {"update_id": 1, "message": {k: v for k, v in message.items() if k != "text"}},
        {"update_id": 1, "message": {k: v for k, v in message.items() if k != "reply_to_message"}},
        {"update_id": 1, "message": {**message, "media_group_id": "g1"}},  # an album
        {"update_id": 1, "message": {**message, "chat": {"id": -5, "type": "group"}}},
        {"update_id": 1, "message": {**message, "from": {**message["from"], "is_bot": True}}},
        {"update_id": "1", "message": message},  # malformed: the dispatcher answers 400
        {"update_id": 1, "message": {**message, "date": "today"}},
        {"update_id": 1, "edited_message": message},
        {"update_id": 1, "message": message, "callback_query": {}},
        [message],
    ]
    assert [classify(u) for u in not_taken] == [None] * len(not_taken)


async def test_fast_path_files_what_the_dispatcher_files(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    ingest = await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    # The first reply through the dispatcher (polling mode), the second through the webhook.
    slow = h.fake.make_private_message(OWNER_TG, "第一次进展", reply_to=reminder)
    await h.feed(slow)
    slow_text = h.last_text(OWNER_TG)
    slow_next = (await _assignment(h, world.a_document.id)).next_action_at
    fast = h.fake.make_private_message(OWNER_TG, "第二次进展", reply_to=reminder)
    assert await ingest.handle([r for r in [classify(fast)] if r]) != [None]  # taken
    assert await h.fake.post_webhook(fast) == 200  # a replay now: skipped, no second report
    first, second = await _reports(h)
    assert (first.number, second.number) == (1, 2)
    for report, text in ((first, "第一次进展"), (second, "第二次进展")):
        assert report.author_id == world.owner.id and report.assignment_id == world.a_document.id
        assert (report.text, report.channel, report.kind) == (text, "chat", "progress")
        assert report.chat_id == OWNER_TG
    e1, e2 = await _filed_events(h)
    assert e2 == {**e1, "number": 2}
    assert (await _assignment(h, world.a_document.id)).next_action_at == slow_next
    for update in (slow, fast):
        logged = await _logged(h, update["update_id"])
        assert (logged.status, logged.attempts) == ("done", 1)

    # A third reply through the webhook: the fake executes the answer's sendMessage.
    third = h.fake.make_private_message(OWNER_TG, "第三次进展", reply_to=reminder)
    assert await h.fake.post_webhook(third) == 200
    assert h.last_text(OWNER_TG) == slow_text.replace("第1次", "第3次")
    assert h.fake.requests[-1].method == "sendMessage"
    assert [r.number for r in await _reports(h)] == [1, 2, 3]


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


async def test_one_batch_files_the_good_and_hands_the_rest_to_the_dispatcher(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    ingest = await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    # The outsider got a message about an assignment of another unit: not theirs to report on.
    foreign = await h.remind(world.outsider, world.a_document)
    stray = h.fake.make_private_message(OWNER_TG, "随便说说")
    good = h.fake.make_private_message(OWNER_TG, "正常进展", reply_to=reminder)
    twice = h.fake.make_private_message(OWNER_TG, "同一条消息两次", reply_to=reminder)
    refused = h.fake.make_private_message(OUTSIDER_TG, "越权填报", reply_to=foreign)
    unknown = h.fake.make_private_message(OWNER_TG, "回复我自己的消息", reply_to=None)
    unknown["message"]["reply_to_message"] = stray["message"]  # a reply to the person's own
    replies = [classify(u) for u in (good, twice, twice, refused, unknown)]
    assert all(replies)
    answers = await ingest.handle([r for r in replies if r is not None])
    assert answers[0] is not None and answers[0]["method"] == "sendMessage"
    assert "正常进展" not in answers[0]["text"] and "第1次" in answers[0]["text"]
    assert answers[1] is not None and "第2次" in answers[1]["text"]
    assert answers[2:] == [None, None, None]
    # The refused update is stored, but pending: the dispatcher answers it as it always did.
    assert (await _logged(h, refused["update_id"])).status == "pending"
    assert await h.fake.post_webhook(refused) == 200
    assert "无权" in h.last_text(OUTSIDER_TG)
    assert (await _logged(h, refused["update_id"])).status == "done"
    # Not a reminder: the dispatcher offers the person's open items.
    assert await h.fake.post_webhook(unknown) == 200
    assert h.last_text(OWNER_TG) == "请选择要报告的事项："
    assert [r.text for r in await _reports(h)] == ["正常进展", "同一条消息两次"]


async def test_a_closed_assignment_gets_the_dispatchers_answer(
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


async def test_a_person_in_a_dialog_is_left_to_the_dialog(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    ingest = await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    state = h.dp.fsm.get_context(h.bot, OWNER_TG, OWNER_TG)
    await state.set_state(ReportFlow.text)
    await state.set_data({"aid": world.a_instruction.id})
    update = h.fake.make_private_message(OWNER_TG, "对话里的回答", reply_to=reminder)
    reply = classify(update)
    assert reply is not None and await ingest.handle([reply]) == [None]
    assert await h.fake.post_webhook(update) == 200
    # The dialog asked for a report on the instruction, so the text goes there.
    [report] = await _reports(h)
    assert report.assignment_id == world.a_instruction.id
    assert await state.get_state() is None


async def test_a_reply_waits_for_the_persons_update_in_progress(
    h: Harness, world: World, aiohttp_client_factory: Any
) -> None:
    """A button press still being handled (its dialog not yet set) holds the person's lock."""
    ingest = await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)
    state = h.dp.fsm.get_context(h.bot, OWNER_TG, OWNER_TG)
    reply = classify(h.fake.make_private_message(OWNER_TG, "按钮之后的回答", reply_to=reminder))
    assert reply is not None
    async with h.dp.fsm.events_isolation.lock(state.key):  # the dispatcher's update in progress
        filing = asyncio.create_task(ingest.handle([reply]))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert not filing.done()  # the batch waits for the lock
        await state.set_state(ReportFlow.text)  # the press opened a dialog
        await state.set_data({"aid": world.a_instruction.id})
    assert await filing == [None]  # left to the dialog, as the dispatcher would
    assert await _reports(h) == []


async def test_dialog_state_in_redis_is_checked_for_the_whole_batch(
    sessions: async_sessionmaker[AsyncSession], clock: FixedClock, world: World, redis_url: str
) -> None:
    async with harness(sessions, clock, storage=RedisStorage.from_url(redis_url)) as h:
        ingest = ReplyIngest(h.dp, h.bot, h.sessions, h.config, h.clock)
        owner = await h.remind(world.owner, world.a_document)
        outsider = await h.remind(world.outsider, world.a_outside)
        await h.dp.fsm.get_context(h.bot, OWNER_TG, OWNER_TG).set_state(ReportFlow.text)
        replies = [
            classify(h.fake.make_private_message(OWNER_TG, "在对话中", reply_to=owner)),
            classify(h.fake.make_private_message(OUTSIDER_TG, "不在对话中", reply_to=outsider)),
        ]
        answers = await ingest.handle([r for r in replies if r is not None])
        assert answers[0] is None and answers[1] is not None
        assert [r.text for r in await _reports(h)] == ["不在对话中"]


async def test_a_failed_batch_leaves_each_update_to_the_dispatcher(
    h: Harness, world: World, aiohttp_client_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _serve(h, aiohttp_client_factory)
    reminder = await h.remind(world.owner, world.a_document)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("batch broke")

    monkeypatch.setattr(bot.ingest, "file_reports", broken)
    update = h.fake.make_private_message(OWNER_TG, "批量失败也不丢", reply_to=reminder)
    assert await h.fake.post_webhook(update) == 200
    assert [r.text for r in await _reports(h)] == ["批量失败也不丢"]
    assert "第1次" in h.last_text(OWNER_TG)
    assert (await _logged(h, update["update_id"])).status == "done"


async def test_replies_at_once_are_filed_in_overlapping_batches_with_distinct_numbers(
    h: Harness, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One reply per batch: the next batch starts while the previous one commits (PostgreSQL).
    ingest = ReplyIngest(h.dp, h.bot, h.sessions, h.config, h.clock, max_batch=1)
    assert ingest.in_flight == (1 if h.sessions.kw["bind"].dialect.name == "sqlite" else 2)
    handle, running, most = ingest.handle, 0, 0

    async def counted(*args: Any, **kwargs: Any) -> list[dict[str, Any] | None]:
        nonlocal running, most
        running += 1
        most = max(most, running)
        try:
            return await handle(*args, **kwargs)
        finally:
            running -= 1

    monkeypatch.setattr(ingest, "handle", counted)
    reminder = await h.remind(world.owner, world.a_document)
    updates = [
        h.fake.make_private_message(OWNER_TG, f"进展{n}", reply_to=reminder) for n in range(6)
    ]
    answers = await asyncio.gather(*(ingest(u) for u in updates))
    await ingest.close()
    assert most == ingest.in_flight
    reports = await _reports(h)
    assert sorted(r.number for r in reports) == [1, 2, 3, 4, 5, 6]
    numbers = {r.chat_message_id: r.number for r in reports}
    for update, answer in zip(updates, answers, strict=True):
        number = numbers[update["message"]["message_id"]]
        assert answer is not None and f"第{number}次" in answer["text"]
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
