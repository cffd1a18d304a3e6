"""Fitting output to each channel's limit: measuring, trimming without breaking markup."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Final

from markupsafe import escape

from notifier.templating.allowlists import (
    TELEGRAM_TAGS,
    sanitize_email_html,
    telegram_tag,
    telegram_tag_problem,
)
from notifier.templating.escaping import escape_header


@dataclass(frozen=True)
class Limit:
    """Output cap for one channel part: ``count`` units measured as ``unit``."""

    count: int
    unit: str  # "chars" | "utf8" (bytes) | "tg" (UTF-16 units of visible text)
    note: str


OUTPUT_LIMITS: Final[dict[tuple[str, str], Limit]] = {
    # Bot API sendMessage: "1-4096 characters after entities parsing"
    # (https://core.telegram.org/bots/api#sendmessage); counted in UTF-16 code units.
    ("telegram", "text"): Limit(4096, "tg", "Telegram 4096 characters after tags"),
    # RFC 5322 recommends 78-char lines; subjects longer than ~200 are truncated by clients.
    ("email", "subject"): Limit(200, "chars", "email subject 200 characters"),
    ("email", "text"): Limit(100_000, "chars", "email text 100,000 characters"),
    ("email", "html"): Limit(100_000, "chars", "email HTML 100,000 characters"),
    # WeCom group robot: "markdown内容，最长不超过4096个字节，必须是utf8编码"
    # (https://developer.work.weixin.qq.com/document/path/91770).
    ("wecom", "text"): Limit(4096, "utf8", "WeCom markdown 4096 bytes"),
    # DingTalk custom robot: no documented per-field limit; 20,000 bytes is the figure
    # commonly observed before the API rejects the message (open.dingtalk.com robot docs).
    ("dingtalk", "text"): Limit(20_000, "utf8", "DingTalk markdown 20,000 bytes"),
    # Feishu custom robot: "请求体的数据大小不能超过 20 KB"
    # (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot); leave room
    # for the JSON envelope.
    ("feishu", "text"): Limit(18_000, "utf8", "Feishu text 18,000 bytes (20 KB body)"),
    ("log", "text"): Limit(100_000, "chars", "log 100,000 characters"),
    # WeCom template card: title 36 + description 44 + sub_title_text 112 characters and up
    # to 6 horizontal lines (developer.work.weixin.qq.com/document/path/90236); the card is
    # cut to those fields when it is built, the template stays well short of this.
    ("wecom_app", "text"): Limit(2_000, "chars", "WeCom card 2,000 characters"),
    # DingTalk work notification action_card: "markdown" up to 5,000 characters, title 64
    # (global error 34016, open.dingtalk.com); the card adds its own lines and the link.
    ("dingtalk_app", "text"): Limit(4_000, "chars", "DingTalk action card 4,000 characters"),
    # Feishu message content: at most 30 KB for a card (open.feishu.cn im/v1/messages).
    ("feishu_app", "text"): Limit(20_000, "utf8", "Feishu card 20,000 bytes (30 KB body)"),
}


_HTML_TOKEN: Final = re.compile(r"<[^<>]*>|&#?\w{1,32};|[^<&]+|[<&]")
_TAG: Final = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w-]*)([^>]*)>")
_ELLIPSIS: Final = "…"


def _tg_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _unescape_entity(entity: str) -> str:
    return html.unescape(entity)


def telegram_visible_length(html_text: str) -> int:
    """Length Telegram counts: text after tags are removed and entities decoded, UTF-16."""
    total = 0
    for token in _HTML_TOKEN.findall(html_text):
        if token.startswith("<") and len(token) > 1:
            continue
        total += _tg_units(_unescape_entity(token) if token.startswith("&") else token)
    return total


def telegram_tag_problems(html_text: str) -> list[str]:
    """Tags Telegram would reject: outside the allowlist, or unbalanced."""
    problems: list[str] = []
    stack: list[str] = []
    for token in _HTML_TOKEN.findall(html_text):
        if not token.startswith("<"):
            continue
        m = _TAG.fullmatch(token)
        if m is None:
            problems.append(f"无效标签 / malformed tag {token!r}")
            continue
        closing, name = m.group(1) == "/", m.group(2).lower()
        problem = (
            f"Telegram 不支持标签 <{name}> / tag <{name}> is not allowed"
            if name not in TELEGRAM_TAGS
            else None
            if closing
            else telegram_tag_problem(name, m.group(3))
        )
        if problem is not None:
            problems.append(problem)
        elif closing:
            if not stack or stack[-1] != name:
                problems.append(f"标签不匹配 </{name}> / unbalanced closing tag </{name}>")
            else:
                stack.pop()
        else:
            stack.append(name)
    problems.extend(f"标签未闭合 <{n}> / tag <{n}> is never closed" for n in stack)
    return problems


def fit_telegram(html_text: str, limit: int = 4096) -> str:
    """Keep only the tags and attributes Telegram allows (the text inside dropped tags stays),
    balance them and trim to ``limit`` visible UTF-16 units."""
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # open tags, and whether each was kept
    used = 0
    budget = limit - _tg_units(_ELLIPSIS)
    fits = telegram_visible_length(html_text) <= limit
    for token in _HTML_TOKEN.findall(html_text):
        if token.startswith("<") and len(token) > 1:
            m = _TAG.fullmatch(token)
            if m is None or m.group(2).lower() not in TELEGRAM_TAGS:
                continue
            name = m.group(2).lower()
            if m.group(1):
                if any(open_name == name for open_name, _ in stack):
                    while stack:
                        top, kept = stack.pop()
                        if kept:
                            out.append(f"</{top}>")
                        if top == name:
                            break
                continue
            tag = telegram_tag(name, m.group(3))
            stack.append((name, tag is not None))
            if tag is not None:
                out.append(tag)
            continue
        if token in {"<", "&"}:
            token = escape(token)
        visible = _unescape_entity(token) if token.startswith("&") else token
        size = _tg_units(visible)
        if fits or used + size <= budget:
            out.append(token)
            used += size
            continue
        if not token.startswith("&"):
            room = budget - used
            cut = ""
            for ch in token:
                w = _tg_units(ch)
                if w > room:
                    break
                cut += ch
                room -= w
            out.append(cut)
        out.append(_ELLIPSIS)
        break
    out.extend(f"</{name}>" for name, kept in reversed(stack) if kept)
    return "".join(out)


def fit_html(html_text: str, limit: int) -> str:
    """Trim an HTML document to ``limit`` characters without cutting a tag or entity."""
    if len(html_text) <= limit:
        return html_text
    out: list[str] = []
    used = 0
    stack: list[str] = []
    room = limit - 200  # leave space for closing tags and the ellipsis
    for token in _HTML_TOKEN.findall(html_text):
        if used + len(token) > room:
            if not token.startswith(("<", "&")):
                out.append(token[: max(0, room - used)])
            out.append(_ELLIPSIS)
            break
        m = _TAG.fullmatch(token) if token.startswith("<") else None
        if m is not None and not m.group(3).rstrip().endswith("/"):
            name = m.group(2).lower()
            if name not in {"br", "hr", "img", "meta", "link", "input", "col", "wbr"}:
                if m.group(1):
                    if name in stack:
                        while stack and stack.pop() != name:
                            pass
                else:
                    stack.append(name)
        out.append(token)
        used += len(token)
    out.extend(f"</{name}>" for name in reversed(stack))
    return "".join(out)[:limit]


def markdown_title(text: str, limit: int = 64) -> str:
    """The first non-empty line of a markdown message without markup, for DingTalk's title."""
    for line in text.splitlines():
        plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line)
        plain = plain.replace("**", "").strip(" #>*`\t")
        if plain:
            return plain if len(plain) <= limit else plain[: limit - 1] + _ELLIPSIS
    return ""


def fit_plain(text: str, limit: Limit) -> str:
    """Trim plain or markdown text to the limit at a character boundary."""
    if measure(text, limit) <= limit.count:
        return text
    budget = limit.count - measure(_ELLIPSIS, limit)
    if limit.unit == "utf8":
        cut = text.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    else:
        cut = text[:budget]
    return cut + _ELLIPSIS


def measure(text: str, limit: Limit) -> int:
    """The size of ``text`` in the unit ``limit`` counts (characters, bytes, Telegram's)."""
    if limit.unit == "utf8":
        return len(text.encode("utf-8"))
    if limit.unit == "tg":
        return telegram_visible_length(text)
    return len(text)


_BLANK_RUNS: Final = re.compile(r"\n[ \t]*\n(?:[ \t]*\n)+")


def tidy(raw: str, part: str) -> str:
    """Strip the output; at most one blank line in a row (macros leave empty lines)."""
    if part == "subject":
        return " ".join(escape_header(raw).split())
    return _BLANK_RUNS.sub("\n\n", raw.strip())


def finish(channel: str, part: str, raw: str) -> str:
    """Trim output to the channel limit, safely for its markup."""
    text = tidy(raw, part)
    limit = OUTPUT_LIMITS[(channel, part)]
    if channel == "telegram":
        return fit_telegram(text, limit.count)
    if channel == "email" and part == "html":
        return fit_html(sanitize_email_html(text), limit.count)
    return fit_plain(text, limit)


def limit_problem(channel: str, part: str, text: str) -> str | None:
    limit = OUTPUT_LIMITS[(channel, part)]
    size = measure(text, limit)
    if size > limit.count:
        unit = {"chars": "字符/characters", "utf8": "字节/bytes", "tg": "字符/characters"}
        return (
            f"输出 {size} {unit[limit.unit]}，超过上限 {limit.count}（{limit.note}） / "
            f"output is {size}, over the limit of {limit.count}"
        )
    return None
