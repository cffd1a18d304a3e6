"""E-mail replies become reports: match a reply to its reminder, check who sent it, file it.

One inbound message is handled in the caller's transaction: it is matched to the reminder it
answers (its In-Reply-To / References name the reminder's Message-ID, or it was sent to the
reminder's signed reply address ``duban+<token>@…``), its sender must be a person who may
report on that assignment (`supervision.access`, the same rule as the bot), and it goes
through the same use-cases as the bot (`file_report`, `request_completion`,
`request_extension`; a reply to a sign-off or review request goes to
`supervision.mail_decisions`). The sender's answer (confirmation or the reason it was refused) is an
outbox row in the same thread; the message itself is recorded as an `InboundMail` row, which
makes it count once. Imports only `models/` and `supervision/`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import PurePath
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from models import (
    Assignment,
    InboundMail,
    InboundOutcome,
    Notification,
    Origin,
    Person,
    ReportKind,
)
from supervision.access import Action, can
from supervision.clock import Clock, local_today
from supervision.dateparse import parse_date
from supervision.errors import DomainError, ValidationFailed
from supervision.labels import Button, Sentence, label, lang_of, refusal, say, told
from supervision.mail_decisions import DECISION_KINDS, decide_by_mail
from supervision.mail_parsing import (
    MailCommand,
    MailIn,
    bare_subject,
    command_of,
    extension_fields,
    latest_reply,
    read_mail,
)
from supervision.outbox import EMAIL, add
from supervision.reports import MAX_ATTACHMENTS, AttachmentIn
from supervision.requests import report_or_request_completion, request_extension
from supervision.sealing import SealBroken, Sealer

__all__ = [
    "MAIL_REPLY",
    "AttachmentLimits",
    "MailRef",
    "MailReplies",
    "MailResult",
    "reply_address",
    "result_of",
]

#: The outbox kind of the answer to an e-mail reply (template ``mail_reply``).
MAIL_REPLY: Final = "mail_reply"
#: Where an attachment kept with a report lives: the database (as web uploads).
DB_STORAGE: Final = "db"
_NOTIFICATION_ID: Final = re.compile(r"^<notification-(\d{1,18})@[^<>\s]+>$")


@dataclass(frozen=True, slots=True)
class AttachmentLimits:
    """What files an e-mail reply may carry to be stored with its report."""

    max_file_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 20 * 1024 * 1024
    max_files: int = MAX_ATTACHMENTS
    #: office documents (incl. WPS and OFD), PDF, images, plain text and archives
    extensions: frozenset[str] = frozenset(
        {
            "pdf", "ofd", "doc", "docx", "wps", "xls", "xlsx", "et", "ppt", "pptx", "dps",
            "txt", "csv", "rtf", "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff",
            "zip", "rar", "7z",
        }
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class MailRef:
    """Where a message was read: mailbox, its UIDVALIDITY, and the message's UID.

    ``headers_only``: the message was too large to download; only its headers were read."""

    mailbox: str
    uidvalidity: int
    uid: int
    headers_only: bool = False


@dataclass(frozen=True, slots=True)
class MailResult:
    """What handling one message came to (``duplicate``: it had been handled before)."""

    outcome: InboundOutcome
    sender: str
    subject: str
    reason: str | None = None
    assignment_id: int | None = None
    report_id: int | None = None
    extension_id: int | None = None
    command: MailCommand | None = None
    duplicate: bool = False

    def line(self) -> str:
        """One line for the CLI and the log (no message text)."""
        target = f" assignment {self.assignment_id}" if self.assignment_id else ""
        if self.duplicate:
            return f"already handled: {self.sender}{target}"
        if self.outcome == InboundOutcome.FILED:
            what = (
                f"report {self.report_id}" if self.report_id else f"extension {self.extension_id}"
            )
            return f"filed {self.command or 'progress'} ({what}) from {self.sender} on{target}"
        if self.outcome == InboundOutcome.REFUSED:
            return f"refused {self.sender}{target}: {self.reason}"
        return f"ignored automatic mail from {self.sender or '(no sender)'}"


def reply_address(sealer: Sealer, address: str, notification_id: int) -> str:
    """The signed reply address of one reminder e-mail: ``duban+<token>@domain``."""
    local, _, domain = address.rpartition("@")
    return f"{local}+{sealer.sign(f'n{notification_id}')}@{domain}"


@dataclass(frozen=True, slots=True)
class _Request:
    """What one authorised reply asks for, ready for the use-cases."""

    mail: MailIn
    person: Person
    assignment: Assignment
    command: MailCommand
    argument: str | None  # the new date of 申请延期, as written
    body: str  # the newly written text without the command line
    files: list[AttachmentIn]


class _Refused(Exception):
    """A reply that is answered with a reason and files nothing; ``said`` words the reason
    in a language (the sender's), from the catalogue."""

    def __init__(
        self, said: Callable[[str | None], str], assignment: Assignment | None = None
    ) -> None:
        super().__init__(said("zh"))
        self.said = said
        self.assignment = assignment

    @classmethod
    def saying(
        cls, sentence: Sentence, assignment: Assignment | None = None, **values: object
    ) -> _Refused:
        """Refused with one catalogue sentence."""
        return cls(lambda locale: say(sentence, locale, **values), assignment)

    @classmethod
    def of(cls, error: DomainError, assignment: Assignment | None = None) -> _Refused:
        """Refused because a use-case refused: its reason, in the catalogue's words if it
        has them."""
        return cls(lambda locale: told(error, locale), assignment)


#: what is wrong with a reply's attachments: each problem's sentence and its values
Problems = list[tuple[Sentence, dict[str, object]]]


def _refused_files(problems: Problems, locale: str | None) -> str:
    """Why the attachments were refused, every problem named, in ``locale``."""
    glue = "; " if lang_of(locale) == "en" else "；"
    named = glue.join(say(sentence, locale, **values) for sentence, values in problems)
    return say(Sentence.MAIL_ATTACHMENTS_REFUSED, locale, problems=named)


class MailReplies:
    """Turns inbound e-mails into reports, completion and extension requests."""

    def __init__(
        self,
        *,
        clock: Clock,
        tz: ZoneInfo,
        sealer: Sealer | None = None,
        reply_to: str | None = None,
        limits: AttachmentLimits | None = None,
        locale: str = "zh",
    ) -> None:
        self.clock = clock
        self.tz = tz
        self.sealer = sealer
        self.reply_to = reply_to.strip().lower() if reply_to else None
        self.limits = limits or AttachmentLimits()
        self.locale = locale

    async def earlier(
        self, session: AsyncSession, ref: MailRef, message_id: str | None
    ) -> InboundMail | None:
        """The row of this message if it was handled before (same UID, or same Message-ID)."""
        same_uid = (
            (InboundMail.mailbox == ref.mailbox)
            & (InboundMail.uidvalidity == ref.uidvalidity)
            & (InboundMail.uid == ref.uid)
        )
        condition = or_(same_uid, InboundMail.message_id == message_id) if message_id else same_uid
        return await session.scalar(select(InboundMail).where(condition).limit(1))

    async def handle(self, session: AsyncSession, ref: MailRef, raw: bytes) -> MailResult:
        """Act on one message in the caller's transaction (the caller commits)."""
        mail = read_mail(raw)
        earlier = await self.earlier(session, ref, mail.message_id)
        if earlier is not None:
            return result_of(earlier)
        person = None if mail.automatic else await self._sender(session, mail.sender)
        # The message's row first: its INSERT opens the transaction for real (pysqlite holds
        # BEGIN back until the first write, and a SAVEPOINT outside one commits on release),
        # and a second reader of the same message stops here on the unique keys.
        row = await self._record(session, ref, mail, person)
        if mail.automatic:
            row.outcome = InboundOutcome.IGNORED
            return MailResult(InboundOutcome.IGNORED, mail.sender, mail.subject)
        try:
            request, assignment = await self._assignment(session, mail)
            if request.kind in DECISION_KINDS:
                result = await self._decide(session, mail, person, request, assignment)
            else:
                result = await self._file(session, ref, mail, person, assignment)
        except _Refused as refused:
            result = MailResult(
                InboundOutcome.REFUSED,
                mail.sender,
                mail.subject,
                reason=refused.said(person.locale if person else self.locale),
                assignment_id=refused.assignment.id if refused.assignment else None,
            )
        row.outcome = result.outcome
        row.reason = result.reason
        row.assignment_id = result.assignment_id
        row.report_id = result.report_id
        row.extension_id = result.extension_id
        await self._answer(session, row, mail, result, person)
        return result

    async def _sender(self, session: AsyncSession, address: str) -> Person | None:
        if not address:
            return None
        return await session.scalar(
            select(Person)
            .where(Person.email == address, Person.active.is_(True))
            .options(selectinload(Person.role_links))
        )

    async def _assignment(
        self, session: AsyncSession, mail: MailIn
    ) -> tuple[Notification, Assignment]:
        """The e-mail the mail answers and its assignment, or _Refused."""
        row = await self._by_message_id(session, mail.answers) or await self._by_token(
            session, mail.recipients
        )
        if row is None or row.assignment_id is None:
            raise _Refused.saying(Sentence.MAIL_UNKNOWN_REMINDER)
        assignment = await session.get(Assignment, row.assignment_id)
        if assignment is None:
            raise _Refused.saying(Sentence.MAIL_ITEM_GONE)
        return row, assignment

    async def _by_message_id(
        self, session: AsyncSession, answers: Sequence[str]
    ) -> Notification | None:
        ids = [int(m.group(1)) for a in answers[:50] if (m := _NOTIFICATION_ID.match(a))]
        if not ids:
            return None
        rows = await session.scalars(
            select(Notification).where(Notification.id.in_(ids), Notification.channel == EMAIL)
        )
        by_id = {r.id: r for r in rows}
        for answer in answers:
            m = _NOTIFICATION_ID.match(answer)
            row = by_id.get(int(m.group(1))) if m else None
            # The Message-ID the e-mail really went out with, not only its shape.
            if row is not None and row.provider_message_id == answer:
                return row
        return None

    async def _by_token(
        self, session: AsyncSession, recipients: Sequence[str]
    ) -> Notification | None:
        if self.sealer is None or self.reply_to is None:
            return None
        local, _, domain = self.reply_to.rpartition("@")
        for address in recipients:
            mine, _, their_domain = address.rpartition("@")
            head, plus, token = mine.partition("+")
            if not plus or head != local or their_domain != domain:
                continue
            try:
                value = self.sealer.verify(token)
            except SealBroken:
                continue
            if value.startswith("n") and value[1:].isdigit():
                return await session.get(Notification, int(value[1:]))
        return None

    async def _decide(
        self,
        session: AsyncSession,
        mail: MailIn,
        person: Person | None,
        request: Notification,
        assignment: Assignment,
    ) -> MailResult:
        """A sign-off or review written in a reply to the request e-mail."""
        try:
            async with session.begin_nested():
                decided = await decide_by_mail(
                    session,
                    request=request,
                    assignment=assignment,
                    person=person,
                    text=latest_reply(mail.text),
                    clock=self.clock,
                )
        except DomainError as exc:
            raise _Refused.of(exc, assignment) from None
        return MailResult(
            InboundOutcome.FILED,
            mail.sender,
            mail.subject,
            assignment_id=assignment.id,
            report_id=decided.report.id if decided.report else None,
            extension_id=decided.extension.id if decided.extension else None,
            command=decided.command,
        )

    async def _file(
        self,
        session: AsyncSession,
        ref: MailRef,
        mail: MailIn,
        person: Person | None,
        assignment: Assignment,
    ) -> MailResult:
        if person is None or not can(person, Action.REPORT, assignment):
            raise _Refused.saying(Sentence.MAIL_SENDER_NOT_REGISTERED, assignment)
        if ref.headers_only:
            raise _Refused.saying(
                Sentence.MAIL_TOO_LARGE, assignment, limit=_mb(self.limits.max_total_bytes)
            )
        files = self._attachments(mail, assignment)
        command, argument, body = command_of(mail.subject, latest_reply(mail.text))
        request = _Request(mail, person, assignment, command, argument, body, files)
        try:
            # A savepoint: a rule broken half-way (after a flush) leaves nothing behind,
            # while the message's own row and its answer are still written.
            async with session.begin_nested():
                return await self._run(session, request)
        except DomainError as exc:
            raise _Refused.of(exc, assignment) from None

    async def _run(self, session: AsyncSession, r: _Request) -> MailResult:
        """File the request through the bot's use-cases (a broken rule raises DomainError)."""
        mail, person, assignment, command, body = r.mail, r.person, r.assignment, r.command, r.body
        files, argument = r.files, r.argument
        common: dict[str, Any] = {"sender": mail.sender, "subject": mail.subject}
        if command == MailCommand.EXTENSION:
            new_due_on = self._new_date(argument)
            reason, progress = extension_fields(body)
            extension = await request_extension(
                session,
                assignment=assignment,
                person=person,
                reason=reason,
                progress=progress,
                new_due_on=new_due_on,
                clock=self.clock,
                tz=self.tz,
                channel=Origin.EMAIL,
            )
            return MailResult(
                InboundOutcome.FILED,
                assignment_id=assignment.id,
                extension_id=extension.id,
                command=command,
                **common,
            )
        report = await report_or_request_completion(
            session,
            kind=ReportKind.COMPLETION
            if command == MailCommand.COMPLETION
            else ReportKind.PROGRESS,
            assignment=assignment,
            person=person,
            text=body,
            clock=self.clock,
            attachments=files,
            channel=Origin.EMAIL,
        )
        return MailResult(
            InboundOutcome.FILED,
            assignment_id=assignment.id,
            report_id=report.id,
            command=command,
            **common,
        )

    def _new_date(self, argument: str | None) -> date:
        if not argument:
            raise refusal(
                ValidationFailed, Sentence.MAIL_EXTENSION_FORMAT, command=label(Button.EXTEND)
            )
        return parse_date(argument, today=local_today(self.clock, self.tz))

    def _attachments(self, mail: MailIn, assignment: Assignment) -> list[AttachmentIn]:
        """The mail's files as report attachments, or _Refused naming the one that breaks a
        limit (nothing is filed then: the sender resends without it)."""
        lim = self.limits
        problems: Problems = []
        if len(mail.attachments) > lim.max_files:
            got = len(mail.attachments)
            problems.append((Sentence.MAIL_TOO_MANY_FILES, {"max": lim.max_files, "got": got}))
        for part in mail.attachments:
            suffix = PurePath(part.file_name).suffix.lower().lstrip(".")
            if suffix not in lim.extensions:
                allowed = " / ".join(sorted(lim.extensions))
                problems.append(
                    (Sentence.MAIL_FILE_TYPE, {"name": part.file_name, "allowed": allowed})
                )
            elif part.size > lim.max_file_bytes:
                size = {"size": _mb(part.size), "max": _mb(lim.max_file_bytes)}
                problems.append((Sentence.MAIL_FILE_SIZE, {"name": part.file_name, **size}))
        total = sum(p.size for p in mail.attachments)
        if total > lim.max_total_bytes and not problems:
            totals: dict[str, object] = {"total": _mb(total), "max": _mb(lim.max_total_bytes)}
            problems.append((Sentence.MAIL_TOTAL_SIZE, totals))
        if problems:
            raise _Refused(lambda locale: _refused_files(problems, locale), assignment)
        return [
            AttachmentIn(
                file_id=f"mail-{mail.message_id or 'x'}-{i}"[:255],
                file_name=part.file_name,
                mime_type=part.mime_type[:127],
                size=part.size,
                storage=DB_STORAGE,
                content=part.content,
            )
            for i, part in enumerate(mail.attachments, start=1)
        ]

    async def _record(
        self, session: AsyncSession, ref: MailRef, mail: MailIn, person: Person | None
    ) -> InboundMail:
        """Insert the message's row (its outcome is settled before the commit)."""
        row = InboundMail(
            mailbox=ref.mailbox[:255],
            uidvalidity=ref.uidvalidity,
            uid=ref.uid,
            message_id=mail.message_id,
            sender=mail.sender[:320],
            subject=mail.subject[:500],
            outcome=InboundOutcome.REFUSED,
            person_id=person.id if person else None,
            received_at=self.clock.now(),
        )
        session.add(row)
        await session.flush()
        return row

    async def _answer(
        self,
        session: AsyncSession,
        row: InboundMail,
        mail: MailIn,
        result: MailResult,
        person: Person | None,
    ) -> None:
        """Queue the answer to the sender, in the thread of their message."""
        assignment = (
            await session.get(Assignment, result.assignment_id) if result.assignment_id else None
        )
        if assignment is not None and not any(can(person, a, assignment) for a in Action):
            # Someone who may not act on the item learns nothing of it from the answer.
            assignment = None
        references = [*reversed(mail.answers[:10]), *([mail.message_id] if mail.message_id else [])]
        await add(
            session,
            dedupe_key=f"mail{row.id}:answer",
            kind=MAIL_REPLY,
            channel=EMAIL,
            not_before=self.clock.now(),
            now=self.clock.now(),
            recipient_id=person.id if person else None,
            address=mail.sender,
            assignment_id=assignment.id if assignment else None,
            item_id=assignment.item_id if assignment else None,
            locale=person.locale if person else self.locale,
            payload={
                "outcome": result.outcome.value,
                "command": (result.command or MailCommand.PROGRESS).value,
                "reason": result.reason or "",
                "reply_subject": bare_subject(mail.subject)[:300],
                "report_id": result.report_id,
                "extension_id": result.extension_id,
                "in_reply_to": mail.message_id,
                "references": references,
                "sender_name": mail.sender_name[:100],
            },
        )


def result_of(row: InboundMail) -> MailResult:
    """What a message handled before came to, from its row."""
    return MailResult(
        outcome=row.outcome,
        sender=row.sender,
        subject=row.subject,
        reason=row.reason,
        assignment_id=row.assignment_id,
        report_id=row.report_id,
        extension_id=row.extension_id,
        duplicate=True,
    )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"
