"""Feishu app messages (飞书应用消息) to individuals: an interactive card linking the item.

The card text (`notifier.channels.cards`) becomes a message card: the title in the header,
the description and body as ``lark_md``, the ``键：值`` fields side by side, and the ``@url``
link as the 查看详情 button. Every piece is escaped here (the template renders plain text).
Send only. The address is the person's Feishu user_id, or an open_id (``ou_…``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from notifier.channels.base import (
    BaseChannel,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
)
from notifier.channels.cards import cut, read_card
from notifier.feishu import (
    PERMANENT_ERRORS,
    RATE_LIMIT_ERRORS,
    USER_RATE_LIMIT,
    FeishuApi,
    FeishuApiError,
    FeishuNetworkError,
)
from notifier.ratelimit import Rate
from notifier.templating.escaping import escape_markdown
from supervision.labels import Button, label
from supervision.people import FEISHU_USER_ID

TITLE_MAX, TEXT_MAX, URL_MAX = 100, 4_000, 1_000


def uuid_of(message: OutgoingMessage) -> str:
    """The request ``uuid`` (at most 50 characters): one per outbox row, so Feishu drops a
    resend of a row whose first send did go through (within its one-hour window)."""
    return f"duban-n{message.notification_id}"


def build_card(message: OutgoingMessage) -> dict[str, Any]:
    """The ``interactive`` card for ``message``."""
    parts = read_card(message.text, default_title="督办" if message.locale == "zh" else "Duban")
    elements: list[dict[str, Any]] = []
    text = [f"**{escape_markdown(parts.description)}**"] if parts.description else []
    if text:
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": text[0]}})
    if parts.fields:
        elements.append(
            {
                "tag": "div",
                "fields": [
                    {
                        "is_short": True,
                        "text": {
                            "tag": "lark_md",
                            "content": f"**{escape_markdown(key)}**\n{escape_markdown(value)}",
                        },
                    }
                    for key, value in parts.fields
                ],
            }
        )
    if parts.body:
        body = cut("\n".join(escape_markdown(line) for line in parts.body), TEXT_MAX)
        elements.append({"tag": "div", "text": {"tag": "lark_md", "content": body}})
    url = parts.url
    if url.startswith(("https://", "http://")) and len(url) <= URL_MAX:
        view = label(Button.VIEW, message.locale, alone=True)
        elements.append(
            {
                "tag": "action",
                "actions": [
                    {
                        "tag": "button",
                        "text": {"tag": "plain_text", "content": view},
                        "type": "primary",
                        "url": url,
                    }
                ],
            }
        )
    return {
        "config": {"wide_screen_mode": True},
        "header": {
            "template": "orange",
            "title": {"tag": "plain_text", "content": cut(parts.title, TITLE_MAX)},
        },
        "elements": elements,
    }


class FeishuAppChannel(BaseChannel):
    """Sends message cards through a Feishu self-built application's bot."""

    kind = "feishu_app"

    def __init__(self, api: FeishuApi) -> None:
        self.api = api
        self.app_key = f"feishu_app:{api.config.app_id}"
        self.rate = api.config.rate
        self.user_rate = api.config.user_rate

    def rates(self, message: OutgoingMessage) -> Sequence[Rate]:
        """The app's overall rate (Feishu: 50 a second) and a calm rate per person."""
        return (
            Rate(self.app_key, self.rate, burst=2),
            Rate(f"{self.app_key}:u{message.address}", self.user_rate),
        )

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send the card to one user; map Feishu's answer to the failure kinds."""
        user = message.address or ""
        if not FEISHU_USER_ID.match(user):
            raise PermanentError(f"not a Feishu user_id or open_id: {user!r}")
        try:
            answer = await self.api.send(
                user, "interactive", build_card(message), uuid=uuid_of(message)
            )
        except FeishuNetworkError as exc:
            raise TransientError(str(exc)) from None
        except FeishuApiError as exc:
            if exc.code in RATE_LIMIT_ERRORS:  # 230020 is this person's limit, not the app's
                pause = self.rates(message)[1 if exc.code == USER_RATE_LIMIT else 0].key
                raise RateLimited(str(exc), retry_after=exc.retry_after, pause_key=pause) from None
            if exc.code in PERMANENT_ERRORS:
                raise PermanentError(str(exc)) from None
            raise TransientError(str(exc)) from None
        data = answer.get("data")
        message_id = data.get("message_id") if isinstance(data, dict) else None
        return SendResult(provider_message_id=str(message_id) if message_id else None)

    async def close(self) -> None:
        """Close the API client's HTTP session."""
        await self.api.close()
