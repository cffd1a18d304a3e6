"""The editable templates of the template pages (消息模板): their keys, URLs and defaults.

Shared by ``templates_admin`` (list, editor, save), ``template_preview`` and
``template_history``; imports ``notifier.templating``'s names only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from aiohttp import web

from notifier.templating import (
    DEFAULT_TEMPLATES_DIR,
    GROUP,
    LOCALES,
    STEPS,
    WECOM_APP,
    RenderPool,
    parts_for,
    template_channels,
)

#: The render workers of this app's previews and saves (started with the app).
RENDER_POOL: Final = web.AppKey("render_pool", RenderPool)

#: Channels edited on this page; ``group`` is shared by WeCom, DingTalk and Feishu robots
#: unless one of them has its own override.
EDIT_CHANNELS: Final = (
    "telegram", "email", GROUP, "wecom", "dingtalk", "feishu", "log", WECOM_APP,
    "dingtalk_app", "feishu_app",
)  # fmt: skip
#: Steps about one item: their preview may use a real item's data.
ITEM_STEPS: Final = frozenset(
    {"assign", "remind", "urge", "overdue", "escalate", "periodic", "review_request",
     "review_outcome", "signoff_request", "co_input", "reopened", "transferred", "ms_remind",
     "ms_urge", "ms_overdue"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Key:
    """One editable template."""

    step: str
    channel: str
    locale: str
    part: str

    @property
    def url(self) -> str:
        """The edit page of this template."""
        return f"/templates/{self.step}/{self.channel}/{self.locale}/{self.part}"

    @property
    def sends_as(self) -> str:
        """The channel a message of this template goes out on (``group``: WeCom's robot, the
        strictest of the three)."""
        return "wecom" if self.channel == GROUP else self.channel

    @property
    def about_an_item(self) -> bool:
        """True when a real item can stand in for the sample in the preview."""
        return self.step in ITEM_STEPS

    def as_tuple(self) -> tuple[str, str, str, str]:
        """(step, channel, locale, part), as the template store keys it."""
        return (self.step, self.channel, self.locale, self.part)


def key_from(request: web.Request) -> Key:
    """The template key in the URL; 404 for anything unknown."""
    info = request.match_info
    key = Key(info["step"], info["channel"], info["locale"], info["part"])
    channel_parts = parts_for("email" if key.channel == "email" else "telegram")
    if (
        key.step not in STEPS
        or key.channel not in EDIT_CHANNELS
        or key.locale not in LOCALES
        or key.part not in channel_parts
    ):
        raise web.HTTPNotFound(text="404: no such template")
    return key


def default_body(key: Key) -> str:
    """The bundled default source of a template (a group robot's falls back to ``group``)."""
    for channel in template_channels(key.channel):
        path = DEFAULT_TEMPLATES_DIR / key.locale / f"{key.step}.{channel}.{key.part}.j2"
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return ""
