"""Chat in: the aiogram bot (binding, reply-to-report, requests, review).

Imports `supervision/` and `models/` (and may use `notifier/` for sending), never `web/`.
"""

from bot.config import BotConfig
from bot.dispatcher import create_bot, create_dispatcher, reprocess_pending, set_commands

__all__ = ["BotConfig", "create_bot", "create_dispatcher", "reprocess_pending", "set_commands"]
