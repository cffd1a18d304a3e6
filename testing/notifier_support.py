"""Helpers for the delivery tests: outbox rows for a real assignment, a fake SMTP server,
channel registries pointed at the fakes, and a sleep that moves the test clock."""

from __future__ import annotations

import asyncio
import math
import socket
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from models import Assignment, Item, Person, Role, Unit
from notifier.channels.base import Channel, ChannelRegistry
from notifier.channels.email import EmailChannel
from notifier.channels.log import LogChannel
from notifier.channels.telegram import TelegramChannel
from notifier.channels.webhooks import group_channels
from notifier.config import MailConfig
from notifier.delivery import DeliveryOptions
from notifier.ratelimit import MemoryLimiter
from supervision.calendar import WorkCalendar
from supervision.clock import FixedClock
from supervision.outbox import notify_person
from testing import factories as f

MAIL_FROM = "市政府督查室 <duban@office.example.gov.cn>"


def clock_sleep(clock: FixedClock):
    """A sleep that moves the test clock instead of waiting."""

    async def sleep(seconds: float) -> None:
        # Round up to the clock's microsecond, or a tiny wait would never pass.
        clock.advance(timedelta(microseconds=math.ceil(seconds * 1_000_000)))
        await asyncio.sleep(0)

    return sleep


def limiter_for(clock: FixedClock) -> MemoryLimiter:
    return MemoryLimiter(clock, sleep=clock_sleep(clock))


def options(**kw) -> DeliveryOptions:
    kw.setdefault("calendar", WorkCalendar())
    kw.setdefault("retry_schedule", (10, 60, 300))
    kw.setdefault("worker", "test")
    return DeliveryOptions(**kw)


@dataclass
class Case:
    unit: Unit
    owner: Person
    item: Item
    assignment: Assignment
    ids: list[int] = field(default_factory=list)


async def reminder(
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    *,
    chat_id: int | None = 555,
    email: str | None = None,
    channels: tuple[str, ...] = ("chat", "email"),
    kind: str = "remind",
    occurrence: str = "2026-11-02",
    case: Case | None = None,
    title: str = "关于加快推进老旧小区改造工作的批示",
) -> Case:
    """An open assignment with an owner, and its ``kind`` step queued for the owner."""
    async with sessions() as session, session.begin():
        if case is None:
            unit = await f.unit(session, name="市住房和城乡建设局")
            owner = await f.person(
                session, name="王建国", unit=unit, roles={Role.OWNER}, telegram_user_id=chat_id
            )
            if email is not None:
                owner.email = email
            item = await f.item(session, title=title)
            assignment = await f.assignment(session, item=item, unit=unit, owner=owner)
            case = Case(unit, owner, item, assignment)
        ids = await notify_person(
            session,
            person=case.owner,
            kind=kind,
            key=f"a{case.assignment.id}:{kind}:{occurrence}",
            channels=channels,
            not_before=clock.now(),
            now=clock.now(),
            assignment_id=case.assignment.id,
            item_id=case.item.id,
            payload={"step": kind, "roles": ["owner"]},
        )
    case.ids = ids
    return case


def registry(
    *, telegram=None, mail: MailConfig | None = None, clock=None, groups: bool = False
) -> ChannelRegistry:
    """Channels pointed at the fakes; missing ones fall to the log channel."""
    channels: list[Channel] = [LogChannel()]
    if telegram is not None:
        channels.append(TelegramChannel(telegram.token, api_base=telegram.base_url))
    if mail is not None:
        channels.append(EmailChannel(mail, mail_from=MAIL_FROM, clock=clock))
    if groups:
        channels.extend(group_channels(clock=clock))
    return ChannelRegistry(channels, substitute=channels[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class MailSink:
    """An aiosmtpd handler that keeps messages; addresses in ``reject`` get 550, in
    ``defer`` 451."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[Envelope] = []
        self.peers: list[object] = []  # one per message: which connection it came on
        self.reject: set[str] = set()
        self.defer: set[str] = set()

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options
    ) -> str:
        if address in self.reject:
            return "550 5.1.1 mailbox unavailable"
        if address in self.defer:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.peers.append(session.peer)
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        self.messages.append(message_from_bytes(raw))
        return "250 Message accepted"


class SmtpServer:
    """A real SMTP server on 127.0.0.1 (aiosmtpd in its own thread)."""

    def __init__(self, port: int | None = None, **smtp_kwargs) -> None:
        self.port = port or free_port()
        self.sink = MailSink()
        # The server thread reports ready in far less than a second on a quiet machine; give it
        # room when parallel test workers share loaded cores (aiosmtpd's default is 1 s).
        smtp_kwargs.setdefault("ready_timeout", 30.0)
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port, **smtp_kwargs)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def config(self, **kw) -> MailConfig:
        return MailConfig(host="127.0.0.1", port=self.port, timeout=5.0, **kw)
