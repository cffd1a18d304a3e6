"""Delivery channels: one small class per kind (``telegram``, ``email``, group robots, ``log``).

:func:`build_channels` makes the registry from the configuration; a kind whose configuration
is missing (no Telegram token, no SMTP URL) is served by the log channel, visibly.
"""

from __future__ import annotations

import logging

from notifier.channels.base import (
    Channel,
    ChannelRegistry,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
)
from notifier.channels.email import EmailChannel
from notifier.channels.log import LogChannel
from notifier.channels.telegram import TelegramChannel
from notifier.channels.webhooks import group_channels
from notifier.channels.wecom_app import WeComAppChannel
from notifier.config import NotifierConfig
from notifier.wecom.api import MemoryTokenStore, RedisTokenStore, TokenStore, WeComApi
from supervision.clock import Clock
from supervision.sealing import Sealer

log = logging.getLogger("duban.notifier")

__all__ = [
    "Channel",
    "ChannelRegistry",
    "OutgoingMessage",
    "PermanentError",
    "RateLimited",
    "SendResult",
    "TransientError",
    "build_channels",
]


def build_channels(config: NotifierConfig, *, clock: Clock) -> ChannelRegistry:
    """Every configured channel, with the log channel standing in for the missing ones."""
    channels: list[Channel] = [LogChannel()]
    if config.telegram_token:
        channels.append(
            TelegramChannel(
                config.telegram_token,
                api_base=config.telegram_api_base,
                rate=config.telegram_rate,
                chat_rate=config.telegram_chat_rate,
                timeout=config.send_timeout_seconds,
            )
        )
    else:
        log.warning("DUBAN_TELEGRAM_TOKEN is not set: Telegram messages go to the log channel")
    if config.mail is not None:
        channels.append(
            EmailChannel(
                config.mail,
                mail_from=config.mail_from,
                clock=clock,
                pool_size=config.concurrency,  # a connection for every send in flight
                reply_to=config.mail_reply_to,
                sealer=Sealer(config.secret_key) if config.secret_key else None,
            )
        )
    else:
        log.warning("DUBAN_SMTP_URL is not set: e-mails go to the log channel")
    if config.wecom is not None:
        store: TokenStore = MemoryTokenStore()
        if config.redis_url:  # one token for every worker, as WeCom asks
            from redis.asyncio import Redis

            store = RedisTokenStore(
                Redis.from_url(config.redis_url), config.wecom.corp_id, config.wecom.agent_id
            )
        api = WeComApi(config.wecom, store=store, clock=clock)
        channels.append(
            WeComAppChannel(api, rate=config.wecom_rate, user_rate=config.wecom_user_rate)
        )
    else:
        log.info("DUBAN_WECOM_CORP_ID is not set: WeCom application messages go to the log")
    channels.extend(group_channels(clock=clock, per_minute=config.group_rate_per_minute))
    return ChannelRegistry(channels, substitute=channels[0])
