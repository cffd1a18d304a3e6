"""Binding a chat with `/start <token>`: strangers, used, expired and unknown tokens, rebinding."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from models import InviteToken, Person, Report, TelegramUpdate
from supervision.invites import create_invite, hash_token
from testing import factories as f
from testing.bot_harness import Harness
from testing.bot_world import OWNER_TG, World

NEW_TG = 2001


async def _invite(h: Harness, person_id: int) -> str:
    async with h.sessions() as session, session.begin():
        person = await session.get_one(Person, person_id)
        return (await create_invite(session, person=person, clock=h.clock)).token


async def _person(h: Harness, person_id: int) -> Person:
    async with h.sessions() as session:
        return await session.get_one(Person, person_id)


async def _new_person(h: Harness, world: World) -> int:
    async with h.sessions() as session, session.begin():
        p = await f.person(session, name="孙七", unit=world.unit)
        return p.id


async def test_start_with_token_binds_and_greets_with_open_items(h: Harness, world: World) -> None:
    pid = await _new_person(h, world)
    async with h.sessions() as session, session.begin():
        a = await session.get_one(type(world.a_document), world.a_document.id)
        a.owner_id = pid
    token = await _invite(h, pid)
    async with h.sessions() as session:
        stored = (await session.scalars(select(InviteToken.token_hash))).all()
    assert token not in stored and hash_token(token) in stored  # only the hash is kept
    await h.feed(h.fake.make_private_message(NEW_TG, f"/start {token}", username="sunqi"))
    person = await _person(h, pid)
    assert (person.telegram_user_id, person.telegram_chat_id, person.telegram_username) == (
        NEW_TG,
        NEW_TG,
        "sunqi",
    )
    greeting = h.last_text(NEW_TG)
    assert "孙七" in greeting and "年度项目推进" in greeting


async def test_used_token_binds_nothing_and_bound_chat_is_not_rebound(
    h: Harness, world: World
) -> None:
    pid = await _new_person(h, world)
    token = await _invite(h, pid)
    await h.feed(h.fake.make_private_message(NEW_TG, f"/start {token}"))
    # The owner's chat tries the same (now used) link: nothing moves.
    await h.feed(h.fake.make_private_message(OWNER_TG, f"/start {token}"))
    assert "已被使用" in h.last_text(OWNER_TG)
    assert (await _person(h, pid)).telegram_user_id == NEW_TG
    assert (await _person(h, world.owner.id)).telegram_user_id == OWNER_TG


async def test_expired_and_unknown_tokens_bind_nothing(h: Harness, world: World) -> None:
    pid = await _new_person(h, world)
    token = await _invite(h, pid)
    h.clock.advance(timedelta(days=7, seconds=1))
    await h.feed(h.fake.make_private_message(NEW_TG, f"/start {token}"))
    assert "已过期" in h.last_text(NEW_TG)
    await h.feed(h.fake.make_private_message(NEW_TG, "/start AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
    assert "无效" in h.last_text(NEW_TG)
    await h.feed(h.fake.make_private_message(NEW_TG, "/start ../../<b>x</b>"))
    assert "无效" in h.last_text(NEW_TG)
    assert (await _person(h, pid)).telegram_user_id is None


async def test_a_new_invite_moves_a_chat_to_another_person(h: Harness, world: World) -> None:
    pid = await _new_person(h, world)
    token = await _invite(h, pid)
    await h.feed(h.fake.make_private_message(OWNER_TG, f"/start {token}"))
    assert (await _person(h, pid)).telegram_user_id == OWNER_TG
    assert (await _person(h, world.owner.id)).telegram_user_id is None


async def test_stranger_is_told_how_to_get_an_invite_and_sees_no_data(
    h: Harness, world: World
) -> None:
    update = h.fake.make_private_message(NEW_TG, "/my")
    await h.feed(update)
    zh_only = h.last_text(NEW_TG)
    assert "邀请" in zh_only and "invite" not in zh_only
    await h.feed(h.fake.make_private_message(NEW_TG + 1, "hello", language_code="en"))
    both = h.last_text(NEW_TG + 1)
    assert "邀请" in both and "invite" in both
    reminder = await h.remind(world.owner, world.a_document)
    forged = h.fake.make_callback_query(NEW_TG, reminder, f"a:r:{world.a_document.id}")
    await h.feed(forged)
    for text in h.texts(NEW_TG) + h.texts(NEW_TG + 1):
        assert "年度项目推进" not in text and "落实省长批示整改" not in text
    async with h.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Report)) == 0
        assert (
            await session.scalar(
                select(func.count()).select_from(Person).where(Person.telegram_user_id == NEW_TG)
            )
            == 0
        )
        logged = await session.get_one(TelegramUpdate, update["update_id"])
        assert logged.status == "done"
    assert h.fake.answers[-1]["show_alert"] is True


async def test_the_update_log_never_keeps_an_invite_token(h: Harness, world: World) -> None:
    pid = await _new_person(h, world)
    token = await _invite(h, pid)
    update = h.fake.make_private_message(NEW_TG, f"/start {token}", username="sunqi")
    await h.feed(update)
    assert (await _person(h, pid)).telegram_user_id == NEW_TG  # bound from the live update
    async with h.sessions() as session:
        stored = await session.get_one(TelegramUpdate, update["update_id"])
    assert token not in str(stored.payload)
    assert stored.payload["message"]["text"] == "/start"


def test_without_secrets_cuts_only_start_payloads() -> None:
    from bot.updates import without_secrets

    start = {
        "update_id": 1,
        "message": {
            "text": "/start@duban_bot abc_DEF-123456789012",
            "entities": [{"type": "bot_command", "offset": 0, "length": 16}],
        },
    }
    assert without_secrets(start)["message"] == {
        "text": "/start@duban_bot",
        "entities": [{"type": "bot_command", "offset": 0, "length": 16}],
    }
    assert start["message"]["text"].endswith("9012")  # the live update is left alone
    for text in ("/start", "进展：已完成 /start abc", "/startx abc"):
        plain = {"update_id": 2, "message": {"text": text}}
        assert without_secrets(plain) == plain
