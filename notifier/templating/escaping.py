"""Escaping per channel: HTML, group-robot markdown, Feishu text, plain text, mail headers;
and the formatting helpers (``b``, ``i``, ``link`` …) that escape their arguments."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

from jinja2 import (
    pass_context,
)
from jinja2.runtime import Context
from markupsafe import Markup, escape

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")

#: Group robots (WeCom markdown, DingTalk markdown) have no documented backslash escape,
#: so user text is neutralised by *fullwidth substitution*: every markdown, link, HTML or
#: mention metacharacter becomes its fullwidth twin (＊［］（）＜＞＠…), which reads naturally
#: in Chinese text and cannot form markup; "://" becomes "：//" so bare URLs do not autolink.
_MARKDOWN_TABLE: Final = str.maketrans(
    {
        "*": "＊",
        "_": "＿",
        "`": "｀",
        "[": "［",
        "]": "］",
        "(": "（",
        ")": "）",
        "<": "＜",
        ">": "＞",
        "#": "＃",
        "~": "～",
        "|": "｜",
        "!": "！",
        "@": "＠",
        "\\": "＼",
        "&": "＆",
        "=": "＝",
        "\r": None,
    }
)
#: Feishu plain text only interprets <at user_id="…"> tags: neutralise tags and mentions.
_FEISHU_TABLE: Final = str.maketrans({"<": "＜", ">": "＞", "@": "＠", "\r": None})


def escape_markdown(text: str) -> str:
    """Neutralise markdown, links, HTML and @mentions in user text for WeCom/DingTalk."""
    return _CONTROL.sub("", text).translate(_MARKDOWN_TABLE).replace("://", "：//")


def escape_feishu(text: str) -> str:
    """Neutralise <at> tags and @mentions in user text for Feishu plain text."""
    return _CONTROL.sub("", text).translate(_FEISHU_TABLE)


def escape_plain(text: str) -> str:
    """Plain text (email text, log): drop control and bidi-override characters."""
    return _CONTROL.sub("", text.replace("\r\n", "\n"))


_LINE_BREAKS: Final = re.compile(r"[\r\n\t\v\f\u2028\u2029]+")


def escape_header(text: str) -> str:
    """Email subject: one line, no control characters (no header injection)."""
    return _CONTROL.sub("", _LINE_BREAKS.sub(" ", text))


ESCAPERS: Final[dict[str, Callable[[str], str]]] = {
    "markdown": escape_markdown,
    "feishu": escape_feishu,
    "plain": escape_plain,
    "header": escape_header,
}


def mode_for(channel: str, part: str) -> str:
    if (channel, part) in {("telegram", "text"), ("email", "html")}:
        return "html"
    if channel == "email" and part == "subject":
        return "header"
    if channel in {"wecom", "dingtalk"}:
        return "markdown"
    if channel == "feishu":
        return "feishu"
    return "plain"


def safe_class(mode: str) -> type[Markup]:
    """A Markup subclass whose escaping is the channel's, so Markup operations stay safe."""
    if mode == "html":
        return Markup
    escaper = ESCAPERS[mode]

    def _escape(cls: type[Markup], s: object) -> Markup:
        if isinstance(s, cls):
            return s
        return cls(escaper(str(s)))

    return type(f"_{mode.title()}Safe", (Markup,), {"escape": classmethod(_escape)})


_QUOTE_STYLE: Final = (
    ' style="margin:4px 0;padding:4px 10px;border-left:3px solid #c8c8c8;color:#444"'
)
_SAFE_URL: Final = re.compile(r"^(https?|tg|mailto):", re.IGNORECASE)


class Helpers:
    """Formatting helpers exposed to templates; each escapes its arguments for the channel."""

    def __init__(self, channel: str, mode: str, safe: type[Markup]) -> None:
        self.channel = channel
        self.mode = mode
        self.safe = safe

    def _esc(self, value: object) -> str:
        if isinstance(value, self.safe):
            return str(value)
        if self.mode == "html":
            return str(escape(str(value)))
        return ESCAPERS[self.mode](str(value))

    def b(self, text: object) -> Markup:
        inner = self._esc(text)
        if self.mode == "html":
            return self.safe(f"<b>{inner}</b>")
        if self.mode == "markdown":
            return self.safe(f"**{inner}**")
        return self.safe(inner)

    def i(self, text: object) -> Markup:
        inner = self._esc(text)
        if self.mode == "html":
            return self.safe(f"<i>{inner}</i>")
        if self.mode == "markdown":
            return self.safe(f"*{inner}*")
        return self.safe(inner)

    def code(self, text: object) -> Markup:
        inner = self._esc(text)
        if self.mode == "html":
            return self.safe(f"<code>{inner}</code>")
        if self.mode == "markdown":
            return self.safe(f"`{inner}`")
        return self.safe(inner)

    def quote(self, text: object) -> Markup:
        inner = self._esc(text)
        if self.mode == "html":
            style = "" if self.channel == "telegram" else _QUOTE_STYLE
            return self.safe(f"<blockquote{style}>{inner}</blockquote>")
        return self.safe("\n".join("> " + line for line in inner.split("\n")))

    @pass_context
    def link(self, context: Context, text: object, url: object) -> Markup:
        label = self._esc(text)
        href = str(url)
        if not _SAFE_URL.match(href) or any(c.isspace() for c in href):
            return self.safe(label)
        if self.mode == "html":
            return self.safe(f'<a href="{escape(href)}">{label}</a>')
        if self.mode == "markdown":
            return self.safe(f"[{label}]({href.replace(')', '%29')})")
        colon = "：" if context.get("locale") == "zh" else ": "
        return self.safe(f"{label}{colon}{href}")
