"""WeCom application messages to individuals: reminders as template cards with buttons.

The rendered text (``<step>.wecom_app.text.j2``, read by `notifier.channels.cards`) is laid
out on a ``button_interaction`` card: title, description, up to 6 ``键：值`` fields, the body,
and the ``@url`` link behind the card and 查看详情.
Buttons carry the same ``a:<action>:<assignment>`` keys as the Telegram buttons, so the
callback opens the same dialog. The address is the person's WeCom userid.
"""

from __future__ import annotations

import re
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
from notifier.channels.cards import cut as _cut
from notifier.channels.cards import read_card
from notifier.channels.telegram import AssignmentAction, reminder_buttons
from notifier.ratelimit import Rate
from notifier.wecom.api import (
    PERMANENT_ERRORS,
    RATE_LIMIT_ERRORS,
    WeComApi,
    WeComApiError,
    WeComNetworkError,
)
from supervision.labels import Button, label

#: 查看详情: shows the item's details (a link when the card has one, else a reply)
VIEW: Final = "v"
#: how long the app is paused after WeCom said "api freq out of limit" (45009), doubling
#: with each attempt the row has already had (WeCom counts per minute and per hour)
RATE_PAUSE_SECONDS: Final = 60.0
# Documented field limits (developer.work.weixin.qq.com/document/path/90236).
TITLE_MAX, DESC_MAX, BODY_MAX = 36, 44, 112
VALUE_MAX, FIELDS_MAX = 26, 6
_USERID: Final = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def task_id(message: OutgoingMessage) -> str:
    """The card's ``task_id`` (unique per app): one per outbox row, so a resend of a row
    whose first send did go through is refused rather than shown twice."""
    return f"duban-n{message.notification_id}"


def build_card(message: OutgoingMessage, *, agent_id: int | None = None) -> dict[str, Any]:
    """The ``template_card`` (``button_interaction``) for ``message``."""
    parts = read_card(message.text, max_fields=FIELDS_MAX)
    title, desc, url = parts.title, parts.description, parts.url
    body = parts.body
    fields = [{"keyname": key, "value": _cut(value, VALUE_MAX)} for key, value in parts.fields]
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "source": {"desc": "督办" if message.locale == "zh" else "Duban"},
        "main_title": {"title": _cut(title, TITLE_MAX), "desc": _cut(desc, DESC_MAX)},
        "task_id": task_id(message),
    }
    if body:
        card["sub_title_text"] = _cut("\n".join(body), BODY_MAX)
    if fields:
        card["horizontal_content_list"] = fields
    if url:
        card["card_action"] = {"type": 1, "url": url}
    buttons: list[dict[str, Any]] = []
    if message.assignment_id is not None:
        if message.buttons:
            buttons = [
                {
                    "text": word,
                    "style": 1 if n == 0 else 2,
                    "key": AssignmentAction(
                        action=action, assignment_id=message.assignment_id
                    ).pack(),
                }
                for n, (action, word) in enumerate(reminder_buttons(message.locale))
            ]
        view = label(Button.VIEW, message.locale, alone=True)
        if url:
            buttons.append({"type": 1, "text": view, "style": 4, "url": url})
        else:
            key = AssignmentAction(action=VIEW, assignment_id=message.assignment_id).pack()
            buttons.append({"text": view, "style": 4, "key": key})
    if not buttons:  # the card type needs a button: one that just acknowledges
        ok = label(Button.ACKNOWLEDGE, message.locale, alone=True)
        buttons = [{"text": ok, "style": 4, "key": f"ack:{message.notification_id}"}]
    card["button_list"] = buttons
    return card


class WeComAppChannel(BaseChannel):
    """Sends template cards through a WeCom self-built application."""

    kind = "wecom_app"

    def __init__(self, api: WeComApi, *, rate: float = 20.0, user_rate: float = 0.5) -> None:
        self.api = api
        self.app_key = f"wecom_app:{api.config.corp_id}:{api.config.agent_id}"
        self.rate = rate
        self.user_rate = user_rate

    def rates(self, message: OutgoingMessage) -> Sequence[Rate]:
        """The app's overall rate and WeCom's 30 messages a minute per member."""
        return (
            Rate(self.app_key, self.rate, burst=2),
            Rate(f"{self.app_key}:u{message.address}", self.user_rate),
        )

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send the card to one userid; map WeCom's answer to the failure kinds."""
        userid = message.address or ""
        if not _USERID.match(userid):
            raise PermanentError(f"not a WeCom userid: {userid!r}")
        body = {
            "touser": userid,
            "msgtype": "template_card",
            "template_card": build_card(message),
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800,
        }
        try:
            answer = await self.api.send(body)
        except WeComNetworkError as exc:
            raise TransientError(str(exc)) from None
        except WeComApiError as exc:
            if exc.code in RATE_LIMIT_ERRORS:
                raise RateLimited(
                    str(exc), retry_after=RATE_PAUSE_SECONDS, pause_key=self.app_key
                ) from None
            if exc.code in PERMANENT_ERRORS:
                raise PermanentError(str(exc)) from None
            raise TransientError(str(exc)) from None
        invalid = {u for u in str(answer.get("invaliduser", "")).split("|") if u}
        if userid in invalid:
            raise PermanentError(f"WeCom: unknown userid {userid!r}")
        msgid = answer.get("msgid")
        return SendResult(provider_message_id=str(msgid) if msgid else None)

    async def close(self) -> None:
        """Close the API client's HTTP session."""
        await self.api.close()
