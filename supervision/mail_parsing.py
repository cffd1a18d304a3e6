"""Reading an inbound e-mail: headers, the newly written text, attachments, and a command.

Pure functions over the raw bytes; imports only the standard library, ``mailparser_reply``
(the quoted original, signatures and mobile footers) and `supervision` helpers. Chinese mail
clients' markers (「在 … 写道：」, 「-----原始邮件-----」, 「发件人：」 with a full-width
colon, 「发自我的iPhone」) are registered with the library as one more language entry, the
extension point it offers for client-specific headers.
"""

from __future__ import annotations

import email
import email.policy
import html as html_lib
import re
import unicodedata
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from enum import StrEnum
from typing import Final

from mailparser_reply import EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE

__all__ = [
    "MailCommand",
    "MailIn",
    "MailPart",
    "bare_subject",
    "command_of",
    "decision_of",
    "extension_fields",
    "latest_reply",
    "read_mail",
]

#: Our entry in the library's table of client markers (a "language" in its terms).
ZH_CLIENTS: Final = "zh_clients"
MAIL_LANGUAGES[ZH_CLIENTS] = {
    # 在 2026年12月5日 下午3:00，张三 <zhang@example.cn> 写道： (Foxmail, QQ, Apple Mail zh)
    "wrote_header": r"^(" + QUOTED_MATCH_INCLUDE + r"在\s?.{0,120}?写道[:：]\s*)$",
    "from_header": (
        r"((?:(?:^|\n|\n"
        + QUOTED_MATCH_INCLUDE
        + r")[* ]*(?:发件人|发送时间|日期|收件人|主题|抄送)[:：][ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})"
    ),
    "disclaimers": ["免责声明[:：]", "保密提示[:：]"],
    "signatures": ["此致", "敬礼", "顺祝商祺", "祝好"],
    # 发自我的iPhone / 发自网易邮箱大师 / 来自华为Mate手机 / 从我的 iPad 发送
    "sent_from": r"(?:发自|来自|从我的).{0,24}",
}
#: 「-----原始邮件-----」 (Coremail, Outlook zh) and QQ Mail's 「------ 原始邮件 ------」 (with
#: more dashes): the library matches its generic separator in any entry's ``from_header``.
MAIL_LANGUAGES[ZH_CLIENTS]["from_header"] = (
    r"(^"
    + QUOTED_MATCH_INCLUDE
    + r"-{3,}\s*(?:原始邮件|Original Message)\s*-{3,}\s*$)|"
    + str(MAIL_LANGUAGES[ZH_CLIENTS]["from_header"])
)

_PARSER: Final = EmailReplyParser(languages=["zh", ZH_CLIENTS, "en"])

#: Labels some Chinese clients give GBK mail; Python's gb2312 codec refuses GBK's extra
#: characters, gb18030 is their superset.
_CHARSET_ALIASES: Final = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
}
_REPLY_PREFIX: Final = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|回复|答复|转发)\s*[:：]\s*)+", re.I)
_EXTENSION: Final = re.compile(r"^申请延期(?:[\s:：]+(?P<date>\S.*))?$")


class MailCommand(StrEnum):
    """What a reply asks for: the first line or the subject may carry a command."""

    PROGRESS = "progress"
    COMPLETION = "completion"  # 申请办结: the body is the 办结报告
    EXTENSION = "extension"  # 申请延期 2027-01-20: the body gives 原因 and 进展
    REVIEW = "review"  # 同意 / 退回 on a review request (督查室审核)
    SIGN_OFF = "sign_off"  # 签发 on a sign-off request (主要负责同志签发)


@dataclass(frozen=True, slots=True)
class MailPart:
    """An attached file of an inbound e-mail."""

    file_name: str
    mime_type: str
    content: bytes = field(repr=False)

    @property
    def size(self) -> int:
        """Its size in bytes."""
        return len(self.content)


@dataclass(frozen=True, slots=True)
class MailIn:
    """An inbound e-mail, as much of it as filing needs."""

    message_id: str | None
    sender: str  # the From address, lower-cased
    sender_name: str
    subject: str
    #: every address it was sent to (To, Cc, Delivered-To): a signed reply address is one
    recipients: tuple[str, ...]
    #: Message-IDs it answers: In-Reply-To first, then References from the newest
    answers: tuple[str, ...]
    text: str  # the whole text body
    attachments: tuple[MailPart, ...] = ()
    #: sent by a program (auto-reply, bounce, list): never answered, so mail cannot loop
    automatic: bool = False


def _header(message: Message, name: str) -> str:
    raw = message.get(name)
    if raw is None:
        return ""
    try:
        return str(make_header(decode_header(str(raw))))
    except (UnicodeError, LookupError, ValueError):
        return str(raw)


def _message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value)


def _charset(part: Message) -> str:
    name = (part.get_content_charset() or "utf-8").lower()
    return _CHARSET_ALIASES.get(name, name)


def _decoded_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    try:
        return payload.decode(_charset(part), errors="replace")
    except LookupError:  # an unknown charset label: the bytes as UTF-8 where they are
        return payload.decode("utf-8", errors="replace")


def _html_to_text(html: str) -> str:
    """A readable text of an HTML-only mail body (line breaks kept, tags and entities gone)."""
    text = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>|</tr>", "\n", text)
    text = re.sub(r"(?i)<blockquote.*", "", text, flags=re.S)  # the quoted original
    text = re.sub(r"<[^>]+>", "", text)
    return html_lib.unescape(text).replace("\xa0", " ")


def _automatic(message: Message, sender: str) -> bool:
    auto = (message.get("Auto-Submitted") or "no").strip().lower()
    precedence = (message.get("Precedence") or "").strip().lower()
    local = sender.partition("@")[0]
    return (
        auto != "no"
        or precedence in ("bulk", "list", "junk", "auto_reply")
        or message.get("List-Id") is not None
        or message.get("X-Autoreply") is not None
        or local in ("mailer-daemon", "postmaster", "no-reply", "noreply")
        or not sender
    )


def read_mail(raw: bytes) -> MailIn:
    """Parse an e-mail as read from the mailbox (any charset; never raises for odd mail)."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    name, address = parseaddr(_header(message, "From"))
    sender = address.strip().lower()
    recipients = tuple(
        a.strip().lower()
        for _, a in getaddresses(
            [_header(message, h) for h in ("To", "Cc", "Delivered-To", "X-Original-To")]
        )
        if a
    )
    answers = _message_ids(_header(message, "In-Reply-To"))
    answers += [
        m for m in reversed(_message_ids(_header(message, "References"))) if m not in answers
    ]
    plain: list[str] = []
    html: list[str] = []
    files: list[MailPart] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        disposition = (part.get_content_disposition() or "").lower()
        file_name = part.get_filename()
        ctype = part.get_content_type()
        if disposition == "attachment" or file_name:
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                label = str(make_header(decode_header(file_name))) if file_name else "附件"
                files.append(MailPart(_safe_name(label), ctype, payload))
        elif ctype == "text/plain":
            plain.append(_decoded_text(part))
        elif ctype == "text/html":
            html.append(_decoded_text(part))
    text = "\n".join(plain) if plain else _html_to_text("\n".join(html))
    message_id = next(iter(_message_ids(_header(message, "Message-ID"))), None)
    return MailIn(
        message_id=message_id[:255] if message_id else None,
        sender=sender,
        sender_name=name.strip(),
        subject=" ".join(_header(message, "Subject").split()),
        recipients=recipients,
        answers=tuple(answers),
        text=text,
        attachments=tuple(files),
        automatic=_automatic(message, sender),
    )


def _safe_name(name: str) -> str:
    kept = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return kept.replace("/", "_").replace("\\", "_").strip()[-255:] or "附件"


def latest_reply(text: str) -> str:
    """The newly written part of a reply: quoted original, signature, mobile footer removed."""
    body = _PARSER.read(text).replies
    if not body:
        return ""
    return str(body[0].body).strip()


def bare_subject(subject: str) -> str:
    """A subject without its reply and forward prefixes (``Re:``, ``回复：``, ``转发：``…)."""
    return _REPLY_PREFIX.sub("", subject).strip()


def command_of(subject: str, text: str) -> tuple[MailCommand, str | None, str]:
    """The command a reply carries (first line of the text, else the subject), the argument
    written after it (the new date of 申请延期), and the text without the command line."""
    lines = text.strip().splitlines()
    first = unicodedata.normalize("NFKC", lines[0]).strip() if lines else ""
    topic = unicodedata.normalize("NFKC", bare_subject(subject))
    for candidate, from_body in ((first, True), (topic, False)):
        rest = "\n".join(lines[1:]).strip() if from_body else text.strip()
        if candidate.startswith("申请办结"):
            return MailCommand.COMPLETION, None, rest
        if m := _EXTENSION.match(candidate):
            return MailCommand.EXTENSION, (m.group("date") or "").strip() or None, rest
    return MailCommand.PROGRESS, None, text.strip()


# 批准 and 驳回 are retired words (docs/GLOSSARY.md) but people still write them: read as 同意/退回.
_APPROVE: Final = ("同意", "批准", "签发", "通过")
_REJECT: Final = ("退回", "不同意", "驳回")


def decision_of(text: str) -> tuple[bool | None, str]:
    """A decision written at the start of a reply (同意/签发 → True, 退回/不同意 → False, else
    None) and the comment after it (the rest of the line and the lines below)."""
    head = text.strip()
    for words, verdict in ((_REJECT, False), (_APPROVE, True)):  # 不同意 before 同意
        for word in words:
            if head.startswith(word):
                return verdict, head[len(word) :].lstrip(" \t:：,，。.;；\n").strip()
    return None, head


_LABEL: Final = re.compile(
    r"^\s*(?P<label>(?:延期)?原因|理由|(?:目前|工作|办理)?进展(?:情况)?|reason|progress)"
    r"\s*[:：]\s*(?P<value>.*)$",
    re.IGNORECASE,
)


def extension_fields(text: str) -> tuple[str, str]:
    """原因 and 进展 from a 申请延期 body, each a labelled paragraph (``原因：…`` / ``进展：…``,
    or ``Reason: …`` / ``Progress: …`` as the English prompt shows them)."""
    reason: list[str] = []
    progress: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if m := _LABEL.match(unicodedata.normalize("NFKC", line)):
            label = m.group("label").lower()
            current = progress if "进展" in label or label == "progress" else reason
            line = m.group("value")
        if current is not None:
            current.append(line)
    return "\n".join(reason).strip(), "\n".join(progress).strip()
