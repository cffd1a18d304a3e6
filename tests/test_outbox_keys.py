"""Outbox keys: one format (supervision.outbox), whoever builds or takes one apart."""

from __future__ import annotations

from supervision.outbox import fallback_key, on_channel, person_key, webhook_key


def test_keys_of_the_same_message_on_another_channel_and_its_fallback():
    chat = person_key("a12:remind:2026-12-07", 3, "telegram")
    assert chat == "a12:remind:2026-12-07:p3:telegram"
    assert on_channel(chat, "email") == person_key("a12:remind:2026-12-07", 3, "email")
    assert fallback_key(chat) == "a12:remind:2026-12-07:p3:telegram:fallback"
    assert webhook_key("a12:remind:2026-12-07", 5) == "a12:remind:2026-12-07:w5"
