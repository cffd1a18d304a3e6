"""How a rendered message looks to its reader, for the template editor's preview: Telegram's
HTML as a chat bubble shows it, group-robot markdown converted (escaped first), plain text.

Everything returned is safe to put in a page: text is escaped, and only a fixed set of tags
is ever written, each rebuilt here (links only with http, https, tg or mailto). The e-mail's
HTML is not converted here: the page shows it in a sandboxed frame. Imports only markupsafe
and the notifier's allow-list helper.
"""

from __future__ import annotations

import html
import re
from typing import Final

from markupsafe import Markup, escape

from notifier.templating.allowlists import safe_href

#: how a chat app draws each of Telegram's HTML tags (a tag not listed: its text only)
_TELEGRAM_DISPLAY: Final = {
    "b": "b", "strong": "b", "i": "i", "em": "i", "u": "u", "ins": "u", "s": "s",
    "strike": "s", "del": "s", "code": "code", "pre": "pre", "blockquote": "blockquote",
}  # fmt: skip
_LINK_SCHEMES: Final = ("http", "https", "tg", "mailto")
_TOKEN: Final = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w-]*)([^>]*)>|([^<]+|<)")
_HREF: Final = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)
_SPOILER: Final = re.compile(r"""class\s*=\s*["']?tg-spoiler""", re.IGNORECASE)


def _link_open(attributes: str) -> str | None:
    found = _HREF.search(attributes)
    if found is None:
        return None
    href = html.unescape(next(g for g in found.groups() if g is not None)).strip()
    if not safe_href(href, _LINK_SCHEMES):
        return None
    return f'<a href="{escape(href)}" target="_blank" rel="noopener noreferrer">'


def telegram_html(text: str) -> Markup:
    """Telegram HTML (parse mode HTML) as the chat app shows it: bold bold, links links."""
    out: list[str] = []
    stack: list[str] = []
    for closing, name, attributes, plain in _TOKEN.findall(text):
        if plain:
            out.append(str(escape(html.unescape(plain))))
            continue
        name = name.lower()
        if name == "a":
            shown = "a"
            opening = None if closing else _link_open(attributes)
        elif name in ("span", "tg-spoiler"):
            spoiler = name == "tg-spoiler" or _SPOILER.search(attributes)
            shown = "span"
            opening = '<span class="tg-spoiler">' if spoiler and not closing else None
        elif name in _TELEGRAM_DISPLAY:
            shown = _TELEGRAM_DISPLAY[name]
            opening = f"<{shown}>"
        else:
            continue  # tg-emoji and anything else: its text stays, the tag does not
        if closing:
            if shown in stack:
                while stack:
                    top = stack.pop()
                    out.append(f"</{top}>")
                    if top == shown:
                        break
        elif opening is not None:
            out.append(opening)
            stack.append(shown)
    out.extend(f"</{tag}>" for tag in reversed(stack))
    return Markup("".join(out))  # noqa: S704 (every piece above is escaped or a fixed tag)


_HEADING: Final = re.compile(r"^(#{1,6})\s+(.*)$")
_QUOTE: Final = re.compile(r"^&gt;\s?(.*)$")
_BOLD: Final = re.compile(r"\*\*(.+?)\*\*")
_ITALIC: Final = re.compile(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?![*\w])")
_CODE: Final = re.compile(r"`([^`]+)`")
_MD_LINK: Final = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
#: WeCom markdown colours: <font color="info|comment|warning">
_FONT: Final = re.compile(
    r"&lt;font color=(?:&#34;|&quot;)(info|comment|warning)(?:&#34;|&quot;)&gt;(.*?)&lt;/font&gt;"
)


def _md_link(match: re.Match[str]) -> str:
    url = html.unescape(match.group(2))
    if not safe_href(url, ("http", "https")):
        return match.group(0)
    return f'<a href="{escape(url)}" target="_blank" rel="noopener noreferrer">{match.group(1)}</a>'


def _md_inline(line: str) -> str:
    line = _CODE.sub(r"<code>\1</code>", line)
    line = _MD_LINK.sub(_md_link, line)
    line = _BOLD.sub(r"<b>\1</b>", line)
    line = _ITALIC.sub(r"<i>\1</i>", line)
    return _FONT.sub(r'<span class="md-\1">\2</span>', line)


def markdown_html(text: str) -> Markup:
    """A group robot's markdown (WeCom, DingTalk) as the group sees it: escaped first, then
    headings, quotes, bold, italics, code, links and WeCom's colours converted."""
    lines: list[str] = []
    for raw in str(escape(text)).split("\n"):
        heading = _HEADING.match(raw)
        quote = _QUOTE.match(raw)
        if heading:
            level = min(len(heading.group(1)) + 2, 6)
            lines.append(f"<h{level}>{_md_inline(heading.group(2))}</h{level}>")
        elif quote:
            lines.append(f"<blockquote>{_md_inline(quote.group(1))}</blockquote>")
        else:
            lines.append(_md_inline(raw) + "\n")
    return Markup("".join(lines))  # noqa: S704 (escaped before any tag was written)


def plain_html(text: str) -> Markup:
    """Plain text (e-mail text part, Feishu robot, log, app cards), escaped; the page keeps
    its line breaks."""
    return escape(text)
