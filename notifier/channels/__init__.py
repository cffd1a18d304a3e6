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
from notifier.channels.dingtalk_app import DingTalkAppChannel
from notifier.channels.email import EmailChannel
from notifier.channels.feishu_app import FeishuAppChannel
from notifier.channels.log import LogChannel
from notifier.channels.telegram import TelegramChannel
from notifier.channels.webhooks import group_channels
from notifier.channels.wecom_app import WeComAppChannel
from notifier.config import NotifierConfig
from notifier.dingtalk import DingTalkApi
from notifier.feishu import FeishuApi
from notifier.tokens import token_store
from notifier.wecom.api import WeComApi, token_key
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
    # one token per app for every worker (through Redis when there is one), as each asks
    if config.wecom is not None:
        wecom = config.wecom
        store = token_store(config.redis_url, token_key(wecom.corp_id, wecom.agent_id))
        api = WeComApi(wecom, store=store, clock=clock)
        channels.append(
            WeComAppChannel(api, rate=config.wecom_rate, user_rate=config.wecom_user_rate)
        )
    else:
        log.info("DUBAN_WECOM_CORP_ID is not set: WeCom application messages go to the log")
    if config.dingtalk is not None:
        key = f"duban:dingtalk:token:{config.dingtalk.app_key}"
        dingtalk = DingTalkApi(
            config.dingtalk, store=token_store(config.redis_url, key), clock=clock
        )
        channels.append(DingTalkAppChannel(dingtalk))
    else:
        log.info("DUBAN_DINGTALK_APP_KEY is not set: DingTalk work notifications go to the log")
    if config.feishu is not None:
        key = f"duban:feishu:token:{config.feishu.app_id}"
        feishu = FeishuApi(config.feishu, store=token_store(config.redis_url, key), clock=clock)
        channels.append(FeishuAppChannel(feishu))
    else:
        log.info("DUBAN_FEISHU_APP_ID is not set: Feishu app messages go to the log")
    channels.extend(group_channels(clock=clock, per_minute=config.group_rate_per_minute))
    return ChannelRegistry(channels, substitute=channels[0])
