"""``/settings`` in the bot: a person orders their channels (接收渠道) with buttons; a press
changes the presser's own list only, and a forged button changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from models import AuditEvent, Person
from testing.bot_harness import Harness
from testing.bot_world import LIAISON_TG, OWNER_TG, World
from testing.fakes.telegram import SentMessage


def buttons(h: Harness, message: SentMessage) -> dict[str, str]:
    """Button text -> callback data under the message as it is now (after edits)."""
    markup = h.fake.message(message.chat_id, message.message_id).get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def press(h: Harness, user: int, message: SentMessage, data: str) -> str:
    answered = len(h.fake.answers)
    await h.feed(h.fake.make_callback_query(user, message, data))
    assert len(h.fake.answers) == answered + 1
    return str(h.fake.answers[-1].get("text", ""))


async def prefs(h: Harness, person: Person) -> str | None:
    async with h.sessions() as session:
        return (await session.get_one(Person, person.id)).channel_prefs


async def test_settings_orders_the_channels_with_buttons(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/settings"))
    [shown] = h.fake.sent_to(OWNER_TG)
    assert "接收渠道" in shown.text and "默认" in shown.text
    # every personal channel may be added (DingTalk and Feishu too: the office may use them)
    assert set(buttons(h, shown)) == {
        "＋ Telegram",
        "＋ 电子邮件",
        "＋ 企业微信",
        "＋ 钉钉工作通知",
        "＋ 飞书",
    }

    assert await press(h, OWNER_TG, shown, buttons(h, shown)["＋ 企业微信"]) == "接收渠道已保存"
    assert await prefs(h, world.owner) == "wecom_app"
    text = h.fake.message(shown.chat_id, shown.message_id)["text"]
    assert "1. 企业微信（未绑定）" in text  # no WeCom userid yet: listed, but skipped
    await press(h, OWNER_TG, shown, buttons(h, shown)["＋ 电子邮件"])
    assert await prefs(h, world.owner) == "wecom_app,email"
    await press(h, OWNER_TG, shown, buttons(h, shown)["⬆ 电子邮件"])
    assert await prefs(h, world.owner) == "email,wecom_app"
    await press(h, OWNER_TG, shown, buttons(h, shown)["✕ 企业微信"])
    assert await prefs(h, world.owner) == "email"
    text = h.fake.message(shown.chat_id, shown.message_id)["text"]
    assert "1. 电子邮件" in text and "企业微信" not in text.split("\n\n")[0]
    await press(h, OWNER_TG, shown, buttons(h, shown)["恢复默认"])
    assert await prefs(h, world.owner) is None


async def test_a_press_changes_only_the_pressers_own_channels(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/settings"))
    [shown] = h.fake.sent_to(OWNER_TG)
    add_email = buttons(h, shown)["＋ 电子邮件"]
    # the liaison presses the owner's button (a forwarded or forged press): their own list
    await press(h, LIAISON_TG, shown, add_email)
    assert (await prefs(h, world.owner), await prefs(h, world.liaison)) == (None, "email")


async def test_a_forged_settings_button_changes_nothing(h: Harness, world: World) -> None:
    await h.feed(h.fake.make_private_message(OWNER_TG, "/settings"))
    [shown] = h.fake.sent_to(OWNER_TG)
    async with h.sessions() as session:
        before = await session.scalar(select(func.count()).select_from(AuditEvent))
    for data in ("cp:a:wecom", "cp:a:sms", "cp:u:email", "cp:z:email"):
        answer = await press(h, OWNER_TG, shown, data)
        assert answer and answer != "接收渠道已保存", data
    assert await prefs(h, world.owner) is None
    async with h.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEvent)) == before
