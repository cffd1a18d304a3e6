"""Channel output allow-lists: what markup a rendered message may carry to its channel.

E-mail HTML goes through a real sanitizer (``nh3``, the Rust ``ammonia`` library): only the
tags, attributes, CSS properties and link schemes below survive, inside a fixed document
shell. Telegram HTML keeps only the tags of Telegram's HTML parse mode, each rebuilt with the
attributes Telegram reads, and links with the schemes http, https and tg.
"""

from __future__ import annotations

import html
import re
from typing import Final

import nh3

# --- Telegram ---------------------------------------------------------------------------

#: the tags of Telegram's HTML parse mode (https://core.telegram.org/bots/api#html-style)
TELEGRAM_TAGS: Final = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
        "a", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
TELEGRAM_SCHEMES: Final = ("http", "https", "tg")

_ATTRIBUTE: Final = re.compile(
    r"""([A-Za-z_:][\w:.-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?"""
)
_LANGUAGE: Final = re.compile(r"language-[\w+#.-]{1,32}")
_UNSAFE_URL_CHARS: Final = re.compile(r"[\x00-\x20\x7f<>\"'`]")


def _attributes(text: str) -> dict[str, str]:
    """Attribute names (lower case) and their values, entities decoded."""
    found: dict[str, str] = {}
    for m in _ATTRIBUTE.finditer(text):
        value = m.group(2) if m.group(2) is not None else m.group(3) or m.group(4) or ""
        found.setdefault(m.group(1).lower(), html.unescape(value))
    return found


def safe_href(url: str, schemes: tuple[str, ...]) -> bool:
    """True for an absolute link with one of ``schemes`` (entities already decoded)."""
    scheme, colon, rest = url.partition(":")
    return bool(colon and rest) and scheme.lower() in schemes and not _UNSAFE_URL_CHARS.search(url)


def telegram_tag(name: str, attributes: str) -> str | None:
    """The opening tag ``<name attributes>`` as sent to Telegram (only the attributes
    Telegram reads), or None when Telegram must not get it (the text inside stays)."""
    if name not in TELEGRAM_TAGS:
        return None
    values = _attributes(attributes)
    if name == "a":
        href = values.get("href", "").strip()
        return f'<a href="{html.escape(href)}">' if safe_href(href, TELEGRAM_SCHEMES) else None
    if name == "span":
        return '<span class="tg-spoiler">' if values.get("class") == "tg-spoiler" else None
    if name == "code" and _LANGUAGE.fullmatch(values.get("class", "")):
        return f'<code class="{values["class"]}">'
    if name == "tg-emoji":
        emoji_id = values.get("emoji-id", "")
        return f'<tg-emoji emoji-id="{emoji_id}">' if emoji_id.isdigit() else None
    if name == "blockquote" and "expandable" in values:
        return "<blockquote expandable>"
    return f"<{name}>"


_TELEGRAM_ATTRIBUTES: Final = {
    "a": {"href"},
    "span": {"class"},
    "code": {"class"},
    "tg-emoji": {"emoji-id"},
    "blockquote": {"expandable"},
}


def telegram_tag_problem(name: str, attributes: str) -> str | None:
    """Why Telegram must not get this opening tag as written, or None when it may."""
    if name not in TELEGRAM_TAGS:
        return f"Telegram 不支持标签 <{name}> / tag <{name}> is not allowed"
    extra = sorted(set(_attributes(attributes)) - _TELEGRAM_ATTRIBUTES.get(name, set()))
    if extra:
        return (
            f"<{name}> 不允许属性 {', '.join(extra)} / <{name}> may not have the attribute(s) "
            f"{', '.join(extra)}"
        )
    if telegram_tag(name, attributes) is None:
        return (
            f"<{name}> 的属性不被允许（链接只能是 http、https、tg） / <{name}> has an attribute "
            "Telegram does not allow (links must be http, https or tg)"
        )
    return None


# --- e-mail HTML ------------------------------------------------------------------------

EMAIL_TAGS: Final = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "s", "small", "sub", "sup", "br", "hr", "p", "div",
        "span", "h1", "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "code", "pre",
        "table", "thead", "tbody", "tfoot", "tr", "th", "td", "caption",
    }
)  # fmt: skip
_CELL: Final = {"colspan", "rowspan", "align", "valign", "width"}
EMAIL_ATTRIBUTES: Final = {
    "*": {"style"},
    "a": {"href", "title"},
    "td": _CELL,
    "th": _CELL,
    "table": {"width", "align", "border", "cellpadding", "cellspacing"},
}
EMAIL_SCHEMES: Final = frozenset({"http", "https", "mailto"})
#: CSS properties kept in ``style`` attributes (no url(), no positioning over other content)
EMAIL_STYLE: Final = frozenset(
    {
        "background-color", "border", "border-bottom", "border-collapse", "border-color",
        "border-left", "border-radius", "border-right", "border-spacing", "border-style",
        "border-top", "border-width", "color", "display", "font", "font-family", "font-size",
        "font-style", "font-weight", "height", "letter-spacing", "line-height", "margin",
        "margin-bottom", "margin-left", "margin-right", "margin-top", "max-width", "min-width",
        "padding", "padding-bottom", "padding-left", "padding-right", "padding-top",
        "text-align", "text-decoration", "vertical-align", "white-space", "width",
        "word-break",
    }
)  # fmt: skip
_DROPPED_WITH_CONTENT: Final = {"script", "style", "title", "noscript", "template", "svg", "math"}

_TITLE: Final = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_LANG: Final = re.compile(r"<html\b[^>]*\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)")
_SHELL: Final = (
    '<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
    "<title>{title}</title>\n</head>\n<body>\n{body}\n</body>\n</html>"
)


def sanitize_email_html(document: str) -> str:
    """The document's content through the allow-lists, in a fixed HTML document shell."""
    title = _TITLE.search(document)
    lang = _LANG.search(document)
    body = nh3.clean(
        document,
        tags=set(EMAIL_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in EMAIL_ATTRIBUTES.items()},
        url_schemes=set(EMAIL_SCHEMES),
        filter_style_properties=set(EMAIL_STYLE),
        link_rel="noopener noreferrer",
    )
    return _SHELL.format(
        lang=lang.group(1) if lang else "zh-CN",
        title=nh3.clean(title.group(1), tags=set()).strip() if title else "",
        body=body.strip(),
    )
