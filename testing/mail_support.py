"""Building blocks of the e-mail reply tests: reminder rows, reply messages, a reader."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Assignment, Notification, NotificationStatus, Person
from notifier.mailbox import MailboxReader, MailFiler, parse_imap_url
from supervision.clock import Clock
from supervision.mail_replies import MailReplies, MailResult
from supervision.sealing import Sealer
from testing import SHANGHAI

DOMAIN = "office.test"
REPLY_TO = "duban@office.test"
SECRET = "mail-tests-secret-key-0123456789abcdef"


async def reminder(session: AsyncSession, assignment: Assignment, person: Person) -> Notification:
    """A reminder e-mail sent to ``person`` about ``assignment`` (as delivery leaves it)."""
    row = Notification(
        dedupe_key=f"a{assignment.id}:remind:test:p{person.id}:email",
        kind="remind",
        channel="email",
        assignment_id=assignment.id,
        item_id=assignment.item_id,
        recipient_id=person.id,
        address=person.email,
        status=NotificationStatus.SENT.value,
        not_before=datetime(2026, 11, 1, tzinfo=UTC),
        payload={},
    )
    session.add(row)
    await session.flush()
    row.provider_message_id = f"<notification-{row.id}@{DOMAIN}>"
    await session.commit()
    return row


@dataclass
class Reply:
    """An e-mail as a person's client sends it."""

    sender: str
    text: str
    subject: str = "回复：【提醒】年度项目推进"
    in_reply_to: str | None = None
    to: str = REPLY_TO
    message_id: str = "<reply-1@client.test>"
    charset: str = "utf-8"
    files: Sequence[tuple[str, str, bytes]] = ()  # (name, mime type, bytes)
    name: str = "张三"
    headers: Sequence[tuple[str, str]] = ()

    def raw(self) -> bytes:
        """The message's bytes."""
        body = MIMEText(self.text, "plain", self.charset)
        mail: MIMEText | MIMEMultipart = body
        if self.files:
            mail = MIMEMultipart("mixed")
            mail.attach(body)
            for name, mime, content in self.files:
                part = MIMEApplication(content, _subtype=mime.split("/")[1])
                part.add_header("Content-Disposition", "attachment", filename=("utf-8", "", name))
                mail.attach(part)
        mail["From"] = formataddr((str(Header(self.name, self.charset)), self.sender))
        mail["To"] = self.to
        mail["Subject"] = Header(self.subject, self.charset)  # type: ignore[assignment]
        mail["Message-ID"] = self.message_id
        if self.in_reply_to:
            mail["In-Reply-To"] = self.in_reply_to
            mail["References"] = self.in_reply_to
        for key, value in self.headers:
            mail[key] = value
        return mail.as_bytes()


def replies(clock: Clock, **kw: object) -> MailReplies:
    """The use-case as the service builds it, with a reply address and the test key."""
    return MailReplies(clock=clock, tz=SHANGHAI, sealer=Sealer(SECRET), reply_to=REPLY_TO, **kw)  # type: ignore[arg-type]


async def read_once(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, url: str
) -> list[MailResult]:
    """One pass over the inbox, as ``duban mail poll --once`` makes it."""
    async with MailboxReader(parse_imap_url(url), MailFiler(sessions, replies(clock))) as reader:
        return await reader.poll_once()
