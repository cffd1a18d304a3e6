"""DingTalk work notifications (钉钉工作通知) to individuals: an action card linking the item.

The card text (`notifier.channels.cards`) becomes the card's markdown: the title as a heading,
the description, the ``键：值`` fields, the body; its ``@url`` link is the card's single
button 查看详情. Without a link the message is plain markdown. Every piece is escaped as
DingTalk markdown here (the template renders plain text), so people's words never become
markup. Send only: DingTalk work notifications carry no reply. The address is the person's
DingTalk userid.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from notifier.channels.base import (
    BaseChannel,
    OutgoingMessage,
    PermanentError,
    RateLimited,
    SendResult,
    TransientError,
)
from notifier.channels.cards import cut, read_card
from notifier.dingtalk import (
    PERMANENT_ERRORS,
    RATE_LIMIT_ERRORS,
    DingTalkApi,
    DingTalkApiError,
    DingTalkNetworkError,
)
from notifier.ratelimit import Rate
from notifier.templating.escaping import escape_markdown
from supervision.labels import Button, label
from supervision.people import DINGTALK_USERID

#: how long the app is paused after DingTalk said "called too often"
RATE_PAUSE_SECONDS: Final = 60.0
# Documented limits (global error 34016): title 64, markdown 5,000, single_title 20,
# single_url 500 characters.
TITLE_MAX, MARKDOWN_MAX, URL_MAX = 64, 5_000, 500


def _link(url: str) -> str:
    return url if url.startswith(("https://", "http://")) and len(url) <= URL_MAX else ""


def build_msg(message: OutgoingMessage) -> dict[str, Any]:
    """The ``msg`` of ``asyncsend_v2`` for ``message``: an action card, or markdown."""
    parts = read_card(message.text, default_title="督办" if message.locale == "zh" else "Duban")
    title = cut(parts.title, TITLE_MAX)
    lines = [f"### {escape_markdown(title)}"]
    if parts.description:
        lines.append(f"**{escape_markdown(parts.description)}**")
    lines.extend(
        f"- {escape_markdown(key)}：{escape_markdown(value)}" for key, value in parts.fields
    )
    if parts.body:
        lines.append("")
        lines.extend(escape_markdown(line) for line in parts.body)
    markdown = cut("\n\n".join(line for line in lines if line), MARKDOWN_MAX)
    url = _link(parts.url)
    if not url:
        return {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    view = label(Button.VIEW, message.locale, alone=True)
    return {
        "msgtype": "action_card",
        "action_card": {
            "title": title,
            "markdown": markdown,
            "single_title": view,
            "single_url": url,
        },
    }


class DingTalkAppChannel(BaseChannel):
    """Sends work notifications through a DingTalk internal application."""

    kind = "dingtalk_app"

    def __init__(self, api: DingTalkApi) -> None:
        self.api = api
        self.app_key = f"dingtalk_app:{api.config.app_key}:{api.config.agent_id}"
        self.rate = api.config.rate
        self.user_rate = api.config.user_rate

    def rates(self, message: OutgoingMessage) -> Sequence[Rate]:
        """The app's overall rate and a calm rate per person."""
        return (
            Rate(self.app_key, self.rate, burst=2),
            Rate(f"{self.app_key}:u{message.address}", self.user_rate),
        )

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send the notification to one userid; map DingTalk's answer to the failure kinds."""
        userid = message.address or ""
        if not DINGTALK_USERID.match(userid):
            raise PermanentError(f"not a DingTalk userid: {userid!r}")
        try:
            answer = await self.api.send(userid, build_msg(message))
        except DingTalkNetworkError as exc:
            raise TransientError(str(exc)) from None
        except DingTalkApiError as exc:
            if exc.code in RATE_LIMIT_ERRORS:
                raise RateLimited(
                    str(exc), retry_after=RATE_PAUSE_SECONDS, pause_key=self.app_key
                ) from None
            if exc.code in PERMANENT_ERRORS:
                raise PermanentError(str(exc)) from None
            raise TransientError(str(exc)) from None
        task = answer.get("task_id")
        return SendResult(provider_message_id=str(task) if task else None)

    async def close(self) -> None:
        """Close the API client's HTTP session."""
        await self.api.close()
