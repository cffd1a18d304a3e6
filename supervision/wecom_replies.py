"""WeCom callbacks become reports: a button press opens a dialog, a text is filed.

One callback is handled in the caller's transaction and answered with a text (the web route
sends it back as WeCom's passive reply, inside the 5 s). The sender is the person bound to
the WeCom userid; what they may do is `supervision.access` (the same rule as the bot and the
e-mail replies), and filing goes through the same use-cases (`file_report`,
`request_completion`, `request_extension`), so an item's story is the same whichever way
people answer.

- A button (``a:r|c|e|v:<assignment>``, the keys `notifier.channels.wecom_app` puts on a
  card): 填报进展 / 申请办结 / 申请延期 ask for the text and remember the step in
  `WeComDialog`; 查看详情 answers with the item's details.
- A text while a step is open is filed for that step; else, with exactly one active item it
  is filed there (``申请办结`` / ``申请延期 2027-01-20`` as its first line work as in e-mail);
  with several, the answer lists them numbered and the next message (the number) files it.
- Each callback counts once (`WeComInbound` by MsgId): WeCom's retry gets the same answer.

Imports only `models/` and `supervision/`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    ACTIVE_STATES,
    Assignment,
    Origin,
    Person,
    ReportKind,
    Unit,
    WeComDialog,
    WeComInbound,
)
from supervision.access import Action, actionable_assignments, can
from supervision.channel_prefs import prefs_of, set_prefs
from supervision.clock import Clock, local_today
from supervision.dateparse import parse_date
from supervision.errors import DomainError, ValidationFailed
from supervision.labels import channel_prefs_word, label
from supervision.mail_parsing import MailCommand, command_of, extension_fields
from supervision.reports import clean_text, file_report, item_of
from supervision.requests import request_completion, request_extension

__all__ = ["WECOM", "WeComAnswer", "WeComIn", "WeComReplies", "inbound_of"]

#: the channel reports filed through WeCom carry
WECOM: Final = Origin.WECOM
REPORT, CLOSE, EXTEND, VIEW, CHOOSE = "r", "c", "e", "v", "choose"
_KEY: Final = re.compile(r"^a:([rcev]):(\d{1,12})$")
_CANCEL: Final = frozenset({"取消", "cancel", "/cancel"})
#: the first word of a message about one's channel preference: ``接收渠道 企业微信 电子邮件``
_SETTINGS: Final = frozenset({"接收渠道", "channels", "/settings"})
_RESET: Final = frozenset({"默认", "default"})
_SETTINGS_TEXT: Final = re.compile(r"^\s*([^\s:]+)[\s:]*(.*)$", re.S)
#: at most this many items are listed to choose from
MAX_CHOICES: Final = 20
#: an open dialog step is dropped after this long: a message much later is a new message
DIALOG_TTL: Final = timedelta(hours=2)

TEXTS: Final[dict[str, dict[str, str]]] = {
    "zh": {
        "unbound": "您的企业微信账号尚未在督办系统登记，消息未予登记。请联系督查室绑定账号。",
        "not_allowed": "您无权对该事项执行此操作，未予登记。",
        "gone": "该事项已办结或不再办理，未予登记。",
        "no_open": "您目前没有办理中的督查事项，消息未予登记。",
        "ask_report": "请发送「{title}」的进展情况（文字）。发送“取消”放弃。",
        "ask_close": "请发送「{title}」的办理情况总结（办结报告）。发送“取消”放弃。",
        "ask_extend": (
            "请发送「{title}」的延期申请，格式如下（发送“取消”放弃）：\n"
            "2027-01-20\n原因：……\n进展：……"
        ),
        "choose": "您有多项办理中的事项，请回复序号，把刚才的内容报送到该事项：\n{lines}",
        "choose_again": "请回复 1 到 {n} 之间的序号，或发送“取消”。",
        "cancelled": "已取消。",
        "filed": "已收到「{title}」第{number}次进展报告。",
        "completion_filed": "「{title}」办结申请已提交（报告第{number}次），等待审核。",
        "extension_filed": "「{title}」延期申请已提交：新的完成时限 {date}，等待督查室审核。",
        "refused": "未予登记：{reason}",
        "details": "{ref} {title}\n责任单位：{unit}\n完成时限：{due}\n状态：{state}",
        "empty": "内容为空，未予登记。请发送文字。",
        "settings": (
            "{prefs}\n\n按顺序发送，例如“接收渠道 企业微信 电子邮件”；发送“接收渠道 默认”恢复默认。"
        ),
        "settings_saved": "接收渠道已保存。\n{prefs}",
    },
    "en": {
        "unbound": "Your WeCom account is not registered with Duban; nothing was filed. "
        "Please ask the supervision office to bind it.",
        "not_allowed": "You may not do this on that item; nothing was filed.",
        "gone": "That item is closed or no longer open; nothing was filed.",
        "no_open": "You have no open items; nothing was filed.",
        "ask_report": "Send the progress on “{title}” (text). Send “cancel” to stop.",
        "ask_close": "Send the completion report for “{title}”. Send “cancel” to stop.",
        "ask_extend": (
            "Send the extension request for “{title}” like this (“cancel” to stop):\n"
            "2027-01-20\n原因：…\n进展：…"
        ),
        "choose": "You have several open items; reply with a number to file your message "
        "there:\n{lines}",
        "choose_again": "Reply with a number from 1 to {n}, or “cancel”.",
        "cancelled": "Cancelled.",
        "filed": "Progress report no. {number} on “{title}” received.",
        "completion_filed": "Completion request for “{title}” sent (report no. {number}).",
        "extension_filed": "Extension of “{title}” to {date} requested; awaiting review.",
        "refused": "Not filed: {reason}",
        "details": "{ref} {title}\nUnit: {unit}\nDue: {due}\nState: {state}",
        "empty": "The message is empty; nothing was filed.",
        "settings": "{prefs}\n\nSend them in order, e.g. “channels wecom_app email”; "
        "“channels default” restores the default.",
        "settings_saved": "Channels saved.\n{prefs}",
    },
}


def say(locale: str, key: str, **values: object) -> str:
    """One answer in the person's language (Chinese by default)."""
    return TEXTS.get(locale, TEXTS["zh"])[key].format(**values)


@dataclass(frozen=True, slots=True)
class WeComIn:
    """One decrypted callback: who sent it, what it is, and the key it counts once by."""

    userid: str
    kind: str  # text, button, other
    dedupe_key: str
    text: str = ""
    event_key: str = ""


def inbound_of(fields: dict[str, str]) -> WeComIn:
    """The callback in a decrypted message's XML fields (`notifier.wecom.crypto.xml_fields`)."""
    userid = fields.get("FromUserName", "")[:64]
    msg_type = fields.get("MsgType", "")
    created = fields.get("CreateTime", "")
    if msg_type == "text":
        key = f"msg:{fields.get('MsgId') or f'{userid}:{created}'}"
        return WeComIn(userid, "text", key[:200], text=fields.get("Content", ""))
    if msg_type == "event" and fields.get("Event") == "template_card_event":
        event_key = fields.get("EventKey", "")
        key = f"evt:{userid}:{created}:{fields.get('TaskId', '')}:{event_key}"
        return WeComIn(userid, "button", key[:200], event_key=event_key)
    event = fields.get("Event", "")
    key = f"other:{fields.get('MsgId') or f'{userid}:{created}:{msg_type}:{event}'}"
    return WeComIn(userid, "other", key[:200])


@dataclass(frozen=True, slots=True)
class WeComAnswer:
    """What a callback came to and the text to answer with ("" for none)."""

    outcome: str  # filed, asked, refused, ignored
    text: str
    report_id: int | None = None
    extension_id: int | None = None


class _Done(Exception):
    def __init__(self, answer: WeComAnswer, assignment: Assignment | None = None) -> None:
        super().__init__(answer.text)
        self.answer = answer
        self.assignment = assignment


def _prefs_text(person: Person) -> str:
    """The person's channels in order, or what the default means, in their language."""
    loc = person.locale
    prefs = prefs_of(person)
    if not prefs:
        return f"{channel_prefs_word('title', loc)}: {channel_prefs_word('default', loc)}"
    names = " → ".join(label(c, loc, alone=True) for c in prefs)
    return f"{channel_prefs_word('title', loc)}: {names}"


class WeComReplies:
    """Turns WeCom callbacks into reports, completion and extension requests."""

    def __init__(self, *, clock: Clock, tz: ZoneInfo) -> None:
        self.clock = clock
        self.tz = tz

    async def handle(self, session: AsyncSession, msg: WeComIn) -> WeComAnswer:
        """Act on one callback in the caller's transaction (the caller commits)."""
        earlier = await session.scalar(
            select(WeComInbound).where(WeComInbound.dedupe_key == msg.dedupe_key)
        )
        if earlier is not None:
            return WeComAnswer(
                earlier.outcome, earlier.answer, earlier.report_id, earlier.extension_id
            )
        person = await session.scalar(
            select(Person)
            .where(Person.wecom_userid == msg.userid, Person.active.is_(True))
            .options(selectinload(Person.role_links))
        )
        # The callback's row first: a second worker handling WeCom's retry stops on its key.
        row = WeComInbound(
            dedupe_key=msg.dedupe_key,
            userid=msg.userid,
            kind=msg.kind,
            outcome="ignored",
            answer="",
            person_id=person.id if person else None,
            received_at=self.clock.now(),
        )
        session.add(row)
        await session.flush()
        assignment: Assignment | None = None
        try:
            answer = await self._act(session, msg, person)
        except _Done as done:
            answer, assignment = done.answer, done.assignment
        row.outcome, row.answer = answer.outcome, answer.text
        row.report_id, row.extension_id = answer.report_id, answer.extension_id
        row.assignment_id = assignment.id if assignment else None
        return answer

    async def _act(self, session: AsyncSession, msg: WeComIn, person: Person | None) -> WeComAnswer:
        if msg.kind == "other":
            return WeComAnswer("ignored", "")
        if person is None:
            return WeComAnswer("refused", say("zh", "unbound"))
        if msg.kind == "button":
            return await self._button(session, msg, person)
        return await self._text(session, msg, person)

    async def _assignment(
        self, session: AsyncSession, person: Person, assignment_id: int, action: Action | None
    ) -> Assignment:
        """The assignment if ``person`` may act on it (``action`` None: see it), else _Done."""
        assignment = await session.get(Assignment, assignment_id)
        allowed = assignment is not None and (
            can(person, action, assignment)
            if action is not None
            else any(can(person, a, assignment) for a in Action)
        )
        if assignment is None or not allowed:
            raise _Done(WeComAnswer("refused", say(person.locale, "not_allowed")))
        if action is not None and assignment.state not in ACTIVE_STATES:
            raise _Done(WeComAnswer("refused", say(person.locale, "gone")), assignment)
        return assignment

    async def _button(self, session: AsyncSession, msg: WeComIn, person: Person) -> WeComAnswer:
        match = _KEY.match(msg.event_key)
        if match is None:
            return WeComAnswer("ignored", "")
        action, assignment_id = match[1], int(match[2])
        if action == VIEW:
            assignment = await self._assignment(session, person, assignment_id, None)
            return WeComAnswer("asked", await self._details(session, person, assignment))
        assignment = await self._assignment(session, person, assignment_id, Action.REPORT)
        title = (await item_of(session, assignment)).title
        step = {REPORT: "report", CLOSE: "close", EXTEND: "extend"}[action]
        await self._remember(session, person, step, assignment.id)
        return WeComAnswer("asked", say(person.locale, f"ask_{step}", title=title))

    async def _details(self, session: AsyncSession, person: Person, a: Assignment) -> str:
        item = await item_of(session, a)
        unit = await session.get(Unit, a.unit_id)
        return say(
            person.locale,
            "details",
            ref=item.ref,
            title=item.title,
            unit=unit.name if unit else "",
            due=a.due_on.isoformat() if a.due_on else "",
            state=str(a.state),
        )

    async def _remember(
        self,
        session: AsyncSession,
        person: Person,
        step: str,
        assignment_id: int | None,
        choices: Sequence[int] = (),
        pending: str | None = None,
    ) -> None:
        dialog = await session.get(WeComDialog, person.wecom_userid)
        if dialog is None:
            dialog = WeComDialog(userid=person.wecom_userid)
            session.add(dialog)
        dialog.step, dialog.assignment_id = step, assignment_id
        dialog.choices, dialog.pending = list(choices), pending
        dialog.updated_at = self.clock.now()

    async def _forget(self, session: AsyncSession, person: Person) -> bool:
        dialog = await session.get(WeComDialog, person.wecom_userid)
        if dialog is None:
            return False
        await session.delete(dialog)
        return True

    async def _text(self, session: AsyncSession, msg: WeComIn, person: Person) -> WeComAnswer:
        text = clean_text(msg.text)
        if unicodedata.normalize("NFKC", text).strip().lower() in _CANCEL:
            await self._forget(session, person)
            return WeComAnswer("asked", say(person.locale, "cancelled"))
        if not text:
            return WeComAnswer("refused", say(person.locale, "empty"))
        asked = _SETTINGS_TEXT.match(unicodedata.normalize("NFKC", text))
        if asked is not None and asked.group(1).lower() in _SETTINGS:
            return await self._settings(session, person, asked.group(2).strip())
        dialog = await session.get(WeComDialog, person.wecom_userid)
        if dialog is not None and self.clock.now() - dialog.updated_at > DIALOG_TTL:
            await self._forget(session, person)
            dialog = None
        if dialog is not None and dialog.step == CHOOSE:
            return await self._chosen(session, person, dialog, text)
        if dialog is not None and dialog.assignment_id is not None:
            await self._forget(session, person)
            assignment = await self._assignment(
                session, person, dialog.assignment_id, Action.REPORT
            )
            if dialog.step == "close":
                text = f"申请办结\n{text}"
            elif dialog.step == "extend":
                text = f"申请延期 {text}"
            return await self._file(session, person, assignment, text)
        active = [
            a for a in await actionable_assignments(session, person) if a.state in ACTIVE_STATES
        ]
        if not active:
            return WeComAnswer("refused", say(person.locale, "no_open"))
        if len(active) == 1:
            return await self._file(session, person, active[0], text)
        choices = active[:MAX_CHOICES]
        lines = []
        for n, a in enumerate(choices, start=1):
            item = await item_of(session, a)
            due = a.due_on.isoformat() if a.due_on else ""
            lines.append(f"{n}. {item.ref} {item.title}（{due}）")
        await self._remember(session, person, CHOOSE, None, [a.id for a in choices], text)
        return WeComAnswer("asked", say(person.locale, "choose", lines="\n".join(lines)))

    async def _settings(self, session: AsyncSession, person: Person, rest: str) -> WeComAnswer:
        """Show or set the person's own channel preference (``/settings`` of the bot)."""
        if not rest:
            return WeComAnswer("asked", say(person.locale, "settings", prefs=_prefs_text(person)))
        wanted = "" if rest.lower() in _RESET else rest
        try:
            await set_prefs(
                session, person_id=person.id, channels=wanted, actor=person, clock=self.clock
            )
        except DomainError as exc:
            return WeComAnswer("refused", say(person.locale, "refused", reason=str(exc)))
        return WeComAnswer("asked", say(person.locale, "settings_saved", prefs=_prefs_text(person)))

    async def _chosen(
        self, session: AsyncSession, person: Person, dialog: WeComDialog, text: str
    ) -> WeComAnswer:
        choices = [int(c) for c in dialog.choices]
        number = unicodedata.normalize("NFKC", text).strip().rstrip(".。")
        if not number.isdigit() or not 1 <= int(number) <= len(choices):
            return WeComAnswer("asked", say(person.locale, "choose_again", n=len(choices)))
        pending = dialog.pending or ""
        await self._forget(session, person)
        assignment = await self._assignment(
            session, person, choices[int(number) - 1], Action.REPORT
        )
        return await self._file(session, person, assignment, pending)

    async def _file(
        self, session: AsyncSession, person: Person, assignment: Assignment, text: str
    ) -> WeComAnswer:
        """File ``text`` through the bot's use-cases; a broken rule is answered, not raised."""
        title = (await item_of(session, assignment)).title
        command, argument, body = command_of("", text)
        try:
            async with session.begin_nested():  # a broken rule leaves nothing behind
                if command == MailCommand.EXTENSION:
                    reason, progress = extension_fields(body)
                    extension = await request_extension(
                        session,
                        assignment=assignment,
                        person=person,
                        reason=reason,
                        progress=progress,
                        new_due_on=self._new_date(argument),
                        clock=self.clock,
                        tz=self.tz,
                        channel=WECOM,
                    )
                    reply = say(
                        person.locale,
                        "extension_filed",
                        title=title,
                        date=extension.new_due_on.isoformat(),
                    )
                    answer = WeComAnswer("filed", reply, extension_id=extension.id)
                elif command == MailCommand.COMPLETION:
                    report = await request_completion(
                        session,
                        assignment=assignment,
                        person=person,
                        summary=body,
                        clock=self.clock,
                        channel=WECOM,
                    )
                    reply = say(
                        person.locale, "completion_filed", title=title, number=report.number
                    )
                    answer = WeComAnswer("filed", reply, report_id=report.id)
                else:
                    report = await file_report(
                        session,
                        assignment=assignment,
                        author=person,
                        text=body,
                        clock=self.clock,
                        kind=ReportKind.PROGRESS,
                        channel=WECOM,
                    )
                    reply = say(person.locale, "filed", title=title, number=report.number)
                    answer = WeComAnswer("filed", reply, report_id=report.id)
        except DomainError as exc:
            reply = say(person.locale, "refused", reason=str(exc))
            raise _Done(WeComAnswer("refused", reply), assignment) from None
        # after the savepoint is released: _Done carries the assignment to the row
        raise _Done(answer, assignment)

    def _new_date(self, argument: str | None) -> date:
        if not argument:
            raise ValidationFailed(
                "申请延期须写明新的完成时限，例如第一行写“2027-01-20”，"
                "下面写“原因：……”和“进展：……”。"
            )
        return parse_date(argument, today=local_today(self.clock, self.tz))
