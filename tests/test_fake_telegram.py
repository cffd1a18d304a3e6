"""The fake Telegram Bot API server, driven by a real aiogram Bot over 127.0.0.1."""

import asyncio
import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio
from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from aiohttp import web

from testing.fakes.telegram import FakeTelegram, ManualClock, SentMessage, parse_html

USER = 4242


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="报告进展", callback_data=data)]]
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def fake(clock: ManualClock) -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(clock=clock) as server:
        yield server


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with fake.bot() as client:
        yield client


@pytest.mark.asyncio
async def test_get_me_and_send_message_ids_per_chat(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "duban_test_bot")
    first = await bot.send_message(USER, "<b>提醒</b>: 事项 #1", parse_mode="HTML")
    second = await bot.send_message(USER, "第二条", reply_markup=keyboard("r:n1"))
    other = await bot.send_message(777, "other chat")
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert first.text == "提醒: 事项 #1"
    assert first.entities is not None and first.entities[0].type == "bold"
    assert [m.message_id for m in fake.sent_to(USER)] == [1, 2]
    sent = fake.sent[1]
    assert sent.reply_markup == {
        "inline_keyboard": [[{"text": "报告进展", "callback_data": "r:n1"}]]
    }
    assert fake.sent[0].raw_text == "<b>提醒</b>: 事项 #1"
    assert fake.sent[0].parse_mode == "HTML"
    assert [call.method for call in fake.requests] == ["getMe"] + ["sendMessage"] * 3


@pytest.mark.asyncio
async def test_reply_to_message_is_stored(fake: FakeTelegram, bot: Bot) -> None:
    original = await bot.send_message(USER, "催办")
    reply = await bot.send_message(USER, "补充", reply_to_message_id=original.message_id)
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.message_id == original.message_id
    assert fake.sent[-1].reply_to_message_id == original.message_id
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(USER, "x", reply_to_message_id=99)


@pytest.mark.asyncio
async def test_text_length_is_counted_after_parsing(bot: Bot) -> None:
    await bot.send_message(1, "<b>" + "督" * 4096 + "</b>", parse_mode="HTML")
    await bot.send_message(2, "&lt;" * 4096, parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(3, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(4, "<b> </b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(5, "")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "html",
    [
        "<script>alert(1)</script>",
        "<b>unclosed",
        "<b><i>crossed</b></i>",
        "stray </b>",
        "a < b",
        "Tom & Jerry",
        "&nbsp;",
        '<span class="x">no</span>',
        "<br/>",
    ],
)
async def test_bad_html_raises(bot: Bot, html: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(USER, html, parse_mode="HTML")


def test_parse_html_entities() -> None:
    text, entities = parse_html(
        '<a href="https://x.cn/a?b=1&amp;c=2">链接</a> &#128512;<tg-spoiler>s</tg-spoiler>'
        '<pre><code class="language-python">x</code></pre><blockquote expandable>q</blockquote>'
        "a > b &quot;q&quot;"
    )
    assert text == '链接 😀sxqa > b "q"'
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 2, "url": "https://x.cn/a?b=1&c=2"},
        {"type": "spoiler", "offset": 5, "length": 1},  # the emoji is two UTF-16 units
        {"type": "pre", "offset": 6, "length": 1, "language": "python"},
        {"type": "expandable_blockquote", "offset": 7, "length": 1},
    ]


@pytest.mark.asyncio
async def test_callback_data_limit_is_64_bytes(bot: Bot) -> None:
    await bot.send_message(USER, "ok", reply_markup=keyboard("x" * 64))
    await bot.send_message(USER, "ok", reply_markup=keyboard("督" * 21))  # 63 bytes
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard("x" * 65))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "no", reply_markup=keyboard("督" * 22))  # 66 bytes


@pytest.mark.asyncio
async def test_blocked_and_unknown_chats(fake: FakeTelegram, bot: Bot) -> None:
    fake.block(USER)
    fake.forget(555)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(555, "hi")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message("@nobody", "hi")
    fake.unblock(USER)
    await bot.send_message(USER, "hi")
    assert len(fake.sent) == 1


@pytest.mark.asyncio
async def test_per_chat_rate_limit_gives_retry_after(
    fake: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    for _ in range(3):  # the burst allowance
        await bot.send_message(USER, "burst")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "too fast")
    assert caught.value.retry_after == 1
    await bot.send_message(USER + 1, "another chat is not limited")
    clock.advance(1)
    await bot.send_message(USER, "after waiting")
    assert fake.violations == 0
    assert fake.requests[3].status == 429


@pytest.mark.asyncio
async def test_global_rate_limit(clock: ManualClock) -> None:
    fake = FakeTelegram(clock=clock, global_rate=5, per_chat_rate=None)
    async with fake, fake.bot() as bot:
        for chat in range(1, 6):
            await bot.send_message(chat, "x")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(6, "x")
        clock.advance(1)
        await bot.send_message(6, "x")
    assert len(fake.sent) == 6


@pytest.mark.asyncio
async def test_force_429_and_violations(fake: FakeTelegram, bot: Bot, clock: ManualClock) -> None:
    fake.force_429(2, retry_after=5)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "x")
    assert caught.value.retry_after == 5
    assert fake.violations == 0
    clock.advance(2)  # the client ignores retry_after
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER + 1, "x")
    assert caught.value.retry_after == 3
    assert fake.violations == 1
    clock.advance(3)  # honoured: the second forced 429 opens a new window
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "x")
    clock.advance(5)
    await bot.send_message(USER, "x")
    assert fake.violations == 1
    assert len(fake.sent) == 1


@pytest.mark.asyncio
async def test_rate_limit_violation_is_per_chat(
    fake: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    fake.force_429(1, retry_after=2, chat_id=USER)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "x")
    await bot.send_message(USER + 1, "other chats may go on")
    clock.advance(1)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(USER, "x")
    assert fake.violations == 1


@pytest.mark.asyncio
async def test_fail_next_gives_server_errors(fake: FakeTelegram, bot: Bot) -> None:
    fake.fail_next(2)
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(USER, "x")
    await bot.send_message(USER, "x")
    assert [c.status for c in fake.requests] == [500, 500, 200]
    assert len(fake.sent) == 1


@pytest.mark.asyncio
async def test_wrong_token_and_unknown_method(fake: FakeTelegram) -> None:
    async with Bot("999:WRONG", session=fake.bot().session) as stranger:
        with pytest.raises(TelegramUnauthorizedError):
            await stranger.get_me()
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{fake.base_url}/bot{fake.token}/sendCarrierPigeon") as resp,
    ):
        assert resp.status == 404
        assert await resp.json() == {"ok": False, "error_code": 404, "description": "Not Found"}


@pytest.mark.asyncio
async def test_get_updates_honours_offset_and_limit(fake: FakeTelegram, bot: Bot) -> None:
    first = fake.make_private_message(USER, "一")
    second = fake.make_private_message(USER, "二")
    fake.push_update(first)
    fake.push_update(second)
    got = await bot.get_updates(timeout=1, limit=1)
    assert [u.update_id for u in got] == [first["update_id"]]
    got = await bot.get_updates(offset=first["update_id"] + 1, timeout=1)
    assert [u.message.text for u in got if u.message] == ["二"]
    assert await bot.get_updates(offset=second["update_id"] + 1, timeout=0) == []
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 0


@pytest.mark.asyncio
async def test_get_updates_long_poll_wakes_on_push(fake: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for_poll()
    update = fake.make_private_message(USER, "进展：已完成")
    fake.push_update(update)
    async with asyncio.timeout(2):
        got = await poll
    assert [u.update_id for u in got] == [update["update_id"]]


@pytest.mark.asyncio
async def test_webhook_blocks_get_updates(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_webhook("https://duban.example/tg", secret_token="s3cret")
    assert (await bot.get_webhook_info()).url == "https://duban.example/tg"
    assert fake.webhook["secret_token"] == "s3cret"
    with pytest.raises(TelegramConflictError):
        await bot.get_updates(timeout=0)
    fake.push_update(fake.make_private_message(USER, "x"))
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []


@pytest.mark.asyncio
async def test_update_dicts_validate_with_aiogram(fake: FakeTelegram, bot: Bot) -> None:
    reminder = await bot.send_message(USER, "<b>提醒</b>", parse_mode="HTML")
    await bot.edit_message_reply_markup(
        chat_id=USER, message_id=reminder.message_id, reply_markup=keyboard("r:n1")
    )
    sent = fake.sent[0]
    doc = fake.add_file(b"%PDF-1.4", "进展.pdf", "application/pdf")
    updates = [
        fake.make_private_message(USER, "已完成", reply_to=sent),
        fake.make_private_message(USER, "附件", document=doc, reply_to=sent),
        fake.make_private_message(USER, None, photo=[{**doc, "width": 10, "height": 10}]),
        fake.make_group_message(-1001234, USER, "群里说一句", reply_to=None),
        fake.make_callback_query(USER, sent, "r:n1"),
    ]
    updates.append(fake.make_edited_message(updates[0], "已完成（修改）"))
    parsed = [Update.model_validate(u) for u in updates]
    reply = parsed[0].message
    assert reply is not None and reply.reply_to_message is not None
    assert reply.reply_to_message.from_user is not None
    assert reply.reply_to_message.from_user.id == 123456
    assert reply.reply_to_message.reply_markup is not None  # the current, edited message
    assert reply.message_id == 2  # user and bot messages share the chat's numbering
    assert reply.from_user is not None and reply.from_user.language_code == "zh-hans"
    assert parsed[1].message is not None and parsed[1].message.caption == "附件"
    assert parsed[3].message is not None and parsed[3].message.chat.type == "supergroup"
    query = parsed[4].callback_query
    assert query is not None and query.data == "r:n1" and isinstance(query.message, Message)
    assert parsed[5].edited_message is not None
    assert parsed[5].edited_message.text == "已完成（修改）"
    assert len({u.update_id for u in parsed}) == len(parsed)


@pytest.mark.asyncio
async def test_answer_callback_query_once(fake: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER, "催办", reply_markup=keyboard("r:n1"))
    update = fake.make_callback_query(USER, fake.sent[0], "r:n1")
    query_id = update["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="已记录")
    assert fake.answers == [{"callback_query_id": query_id, "text": "已记录"}]
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query_id)


@pytest.mark.asyncio
async def test_edit_message(fake: FakeTelegram, bot: Bot) -> None:
    msg = await bot.send_message(USER, "待办", reply_markup=keyboard("r:n1"))
    edited = await bot.edit_message_text(
        text="<i>已办结</i>", chat_id=USER, message_id=msg.message_id, parse_mode="HTML"
    )
    assert isinstance(edited, Message) and edited.text == "已办结"
    assert edited.reply_markup is None  # Telegram drops the keyboard unless it is resent
    assert fake.message(USER, msg.message_id)["text"] == "已办结"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text="<i>已办结</i>", chat_id=USER, message_id=msg.message_id, parse_mode="HTML"
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text(text="x", chat_id=USER, message_id=99)
    assert [e.method for e in fake.edits] == ["editMessageText"]
    assert len(fake.sent) == 1


@pytest.mark.asyncio
async def test_documents_photos_and_files(fake: FakeTelegram, bot: Bot) -> None:
    fake.per_chat_rate = None
    doc = fake.add_file(b"report body", "进展.docx", "application/msword")
    sent = await bot.send_document(USER, doc["file_id"], caption="附件")
    assert sent.document is not None and sent.document.file_name == "进展.docx"
    photo = await bot.send_photo(USER, "AgACAgIAAxkBAAI", caption="<b>图</b>", parse_mode="HTML")
    assert photo.photo is not None and photo.caption == "图"
    upload = await bot.send_document(USER, BufferedInputFile(b"csv,data", "bulletin.csv"))
    assert upload.document is not None
    assert [m.file_id for m in fake.sent] == [doc["file_id"], "AgACAgIAAxkBAAI", "FILE2"]
    with pytest.raises(TelegramBadRequest, match="caption is too long"):
        await bot.send_document(USER, doc["file_id"], caption="x" * 1025)
    file = await bot.get_file(doc["file_id"])
    assert file.file_path is not None
    data = await bot.download_file(file.file_path)
    assert data is not None and data.read() == b"report body"
    with pytest.raises(TelegramBadRequest, match="invalid file_id"):
        await bot.get_file("nope")


@pytest.mark.asyncio
async def test_commands_and_log_helpers(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand(command="items", description="我的事项")])
    assert fake.commands == [{"command": "items", "description": "我的事项"}]
    fake.per_chat_rate = None
    for n in (1, 2, 2, 3, 3, 3):
        await bot.send_message(USER, f"事项提醒 [n{n}]")
    await bot.send_message(USER, "no marker")

    def notification(m: SentMessage) -> str | None:
        found = re.search(r"\[n(\d+)\]", m.text)
        return found.group(1) if found else None

    assert fake.count_by(notification) == {"1": 1, "2": 2, "3": 3}
    assert fake.duplicates(notification) == {"2": 2, "3": 3}


@pytest.mark.asyncio
async def test_dispatcher_polling_end_to_end(fake: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"收到：{message.text}")

    polling = asyncio.create_task(dp.start_polling(bot, polling_timeout=1, handle_signals=False))
    fake.push_update(fake.make_private_message(USER, "进展"))
    sent = await fake.wait_for_sent(1)
    await dp.stop_polling()
    await polling
    assert sent[0].text == "收到：进展"
    assert sent[0].chat_id == USER


@pytest.mark.asyncio
async def test_several_instances_and_latency() -> None:
    async with FakeTelegram() as one, FakeTelegram(token="42:OTHER", delay=0.05) as two:
        assert one.base_url != two.base_url
        assert one.base_url.startswith("http://127.0.0.1:")
        async with one.bot() as bot_one, two.bot() as bot_two:
            await bot_one.send_message(1, "a")
            loop = asyncio.get_running_loop()
            started = loop.time()
            await bot_two.send_message(1, "b")
            assert loop.time() - started >= 0.05
    assert [m.text for m in one.sent] == ["a"]
    assert [m.text for m in two.sent] == ["b"]


@pytest.mark.asyncio
async def test_post_webhook_sends_secret(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, object]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response()

    app = web.Application()
    app.router.add_post("/tg", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        await bot.set_webhook(f"http://{host}:{port}/tg", secret_token="s3cret")
        update = fake.make_private_message(USER, "via webhook")
        assert await fake.post_webhook(update) == 200
    finally:
        await runner.cleanup()
    assert received == [("s3cret", update)]


@pytest.mark.asyncio
async def test_replies_quote_one_level_and_groups(fake: FakeTelegram, bot: Bot) -> None:
    first = await bot.send_message(-100777, "群通知")
    second = await bot.send_message(-100777, "补充", reply_to_message_id=first.message_id)
    update = fake.make_group_message(-100777, USER, "收到", reply_to=fake.sent[1])
    quoted = update["message"]["reply_to_message"]
    assert quoted["message_id"] == second.message_id and "reply_to_message" not in quoted
    assert second.chat.type == "supergroup"
    fake.block(-100777)
    with pytest.raises(TelegramForbiddenError, match="kicked from the group chat"):
        await bot.send_message(-100777, "x")


@pytest.mark.asyncio
async def test_second_poll_ends_the_first_with_conflict(fake: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await fake.wait_for_poll()
    update = fake.make_private_message(USER, "x")
    second = asyncio.create_task(bot.get_updates(timeout=10))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first
    fake.push_update(update)
    assert [u.update_id for u in await second] == [update["update_id"]]


@pytest.mark.asyncio
async def test_chat_action_delete_and_photo_shortcut(fake: FakeTelegram, bot: Bot) -> None:
    assert await bot.send_chat_action(USER, "typing")
    msg = await bot.send_message(USER, "临时提示")
    assert await bot.delete_message(USER, msg.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER, msg.message_id)
    photo = fake.add_file(b"\x89PNG", "scan.png", "image/png")
    update = Update.model_validate(fake.make_private_message(USER, "现场照片", photo=photo))
    assert update.message is not None and update.message.photo is not None
    assert update.message.photo[0].file_id == photo["file_id"]
    assert update.message.caption == "现场照片"


@pytest.mark.asyncio
async def test_requests_in_flight_when_429_announced_are_not_violations(
    fake: FakeTelegram, bot: Bot, clock: ManualClock
) -> None:
    fake.force_429(1, retry_after=3)
    results = await asyncio.gather(
        *(bot.send_message(chat, "x") for chat in (1, 2, 3)), return_exceptions=True
    )
    assert all(isinstance(r, TelegramRetryAfter) for r in results)
    assert fake.violations == 0  # all arrived at the same instant: the clients could not know
    clock.advance(0.5)
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(4, "x")
    assert fake.violations == 1
