"""Names of the template set: steps, channels, locales, parts and where the defaults live.

Imports only the ``templates`` data package."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import templates as _templates_pkg

STEPS: Final = (
    "assign",
    "remind",
    "urge",
    "overdue",
    "escalate",
    "periodic",
    "ms_remind",
    "ms_urge",
    "ms_overdue",
    "review_request",
    "review_outcome",
    "signoff_request",
    "co_input",
    "reopened",
    "transferred",
    "due_moved",
    "invite",
    "bulletin",
    "mail_reply",
    "digest",
)
CHANNELS: Final = (
    "telegram", "email", "wecom", "dingtalk", "feishu", "log", "wecom_app", "dingtalk_app",
    "feishu_app",
)  # fmt: skip
GROUP_CHANNELS: Final = frozenset({"wecom", "dingtalk", "feishu"})
GROUP: Final = "group"
#: WeCom application messages to individuals (template cards); steps without a card template
#: use the one-line ``log`` text
WECOM_APP: Final = "wecom_app"
#: DingTalk work notifications and Feishu app messages to individuals: laid out from the same
#: card text as WeCom's (title, description, ``键：值`` lines, body, ``@url``) unless a
#: template of their own exists
DINGTALK_APP: Final = "dingtalk_app"
FEISHU_APP: Final = "feishu_app"


def template_channels(channel: str) -> tuple[str, ...]:
    """The channels whose template a message on ``channel`` uses, the first one found."""
    if channel in GROUP_CHANNELS:
        return (channel, GROUP)
    if channel == WECOM_APP:
        return (channel, "log")
    if channel in (DINGTALK_APP, FEISHU_APP):
        return (channel, WECOM_APP, "log")
    return (channel,)


LOCALES: Final = ("zh", "en")
DEFAULT_LOCALE: Final = "zh"
DEFAULT_TEMPLATES_DIR: Final = Path(_templates_pkg.__file__).parent


def parts_for(channel: str) -> tuple[str, ...]:
    """The template parts one message on this channel is made of."""
    return ("subject", "text", "html") if channel == "email" else ("text",)
