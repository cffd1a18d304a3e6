"""E-mail through SMTP (aiosmtplib): multipart text + HTML, stable Message-IDs, threading.

Messages are built with the ``email`` package's compat32 classes (``MIMEMultipart`` /
``MIMEText``, RFC 2047 encoded-words for Chinese names and subjects): several times cheaper
than ``EmailMessage`` with the default policy, whose header parsing and folding took most of a
send's CPU. A domain in Chinese (``例子.中国``) is written in its IDNA form, so the whole
message and its envelope are ASCII. They go out over a small pool of SMTP connections, one
transaction at a time on each, so a burst does not pay a TCP (and TLS) handshake and EHLO
per message.

4xx replies and connection trouble are transient; a 5xx refusal of the address or the
message is permanent. The SMTP password never appears in a log line or error.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, getaddresses
from typing import Final

import aiosmtplib

from notifier.channels.base import (
    BaseChannel,
    OutgoingMessage,
    PermanentError,
    SendResult,
    TransientError,
    redact,
)
from notifier.config import MailConfig
from supervision.clock import Clock, SystemClock
from supervision.emails import BadEmail, normal_email
from supervision.mail_replies import MAIL_REPLY, reply_address
from supervision.sealing import Sealer

DEFAULT_DOMAIN: Final = "duban.localhost"


def ascii_address(address: str) -> str:
    """``address`` with an internationalised domain (``例子.中国``) in its IDNA form.

    Headers and envelope are then plain ASCII, which every server takes (no SMTPUTF8). A
    non-ASCII local part has no such form: it stays and fails the address check.
    Raises ValueError (UnicodeError) for a domain IDNA cannot encode.
    """
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    return f"{local}@{domain.encode('idna').decode('ascii')}"


def mail_domain(mail_from: str) -> str:
    """The domain of the sender address (for Message-IDs), in ASCII."""
    pairs = getaddresses([mail_from])
    address = pairs[0][1] if pairs else ""
    if "@" not in address:
        return DEFAULT_DOMAIN
    return ascii_address(address.strip()).rsplit("@", 1)[1].lower()


def message_id_for(notification_id: int, domain: str) -> str:
    """The stable Message-ID of the e-mail for one outbox row."""
    return f"<notification-{notification_id}@{domain}>"


def _one_line(value: str) -> str:
    """A header value on one line (no CR/LF smuggled in from data)."""
    return " ".join(value.splitlines()).strip()


def _mailbox(name: str, address: str) -> str:
    """``name <address>`` with the name encoded for the header when it is not ASCII."""
    return formataddr((_one_line(name), address), charset="utf-8") if name else address


def _text(value: str) -> str | Header:
    """An unstructured header value: as is in ASCII, else an RFC 2047 encoded-word."""
    value = _one_line(value)
    return value if value.isascii() else Header(value, "utf-8")


class EmailChannel(BaseChannel):
    """Sends one e-mail per message over up to ``pool_size`` SMTP connections.

    A connection is opened on first use and carries one transaction at a time; after a send
    it goes back to the pool, unless it has been idle longer than ``idle_seconds`` when next
    wanted (servers drop idle clients), in which case a fresh one is opened. A send on a
    reused connection that the server has dropped is sent again once on a new connection.
    ``close()`` says QUIT on every pooled connection.
    """

    kind = "email"

    def __init__(
        self,
        config: MailConfig,
        *,
        mail_from: str,
        clock: Clock | None = None,
        pool_size: int = 8,
        idle_seconds: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        reply_to: str | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self.config = config
        #: the mailbox Duban reads replies from; reminders carry a signed Reply-To there
        self.reply_to = ascii_address(reply_to.strip()) if reply_to and sealer else None
        self._sealer = sealer
        self.pool_size = max(1, pool_size)
        self.idle_seconds = idle_seconds
        self._monotonic = monotonic
        #: idle connections with the time each was last used
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._slots = asyncio.Semaphore(self.pool_size)
        self.mail_from = mail_from
        pairs = getaddresses([mail_from])
        name, sender = pairs[0] if pairs else ("", mail_from)
        self.sender = ascii_address(sender)
        self._from_header = _mailbox(name, self.sender)
        self.domain = mail_domain(mail_from)
        self.clock = clock or SystemClock()

    @staticmethod
    def envelope_address(message: OutgoingMessage) -> str:
        """The recipient as the envelope and the To header carry it (ASCII), or
        PermanentError saying why it is not an address mail can go to."""
        given = message.address or ""
        try:
            normal_email(given)  # the check every address passed where it entered Duban
            address = ascii_address(given.strip())
        except BadEmail as exc:
            raise PermanentError(f"not an e-mail address: {exc}") from None
        except (ValueError, IndexError):
            raise PermanentError(
                f"not an e-mail address: {given!r} has a domain with no ASCII (IDNA) form"
            ) from None
        if not address.isascii():
            raise PermanentError(
                f"not an e-mail address in ASCII: {given!r}; a local part in Chinese needs "
                "SMTPUTF8, which this channel does not use"
            )
        return address

    def build(self, message: OutgoingMessage, address: str | None = None) -> Message:
        """The MIME message: text part, HTML alternative, Message-ID and thread headers
        (``address``: the message's `envelope_address`, when the caller has it already)."""
        address = address or self.envelope_address(message)
        text = MIMEText(message.text or " ", "plain", "utf-8")
        mail: Message = text
        if message.html:
            html = MIMEText(message.html, "html", "utf-8")
            del text["MIME-Version"], html["MIME-Version"]  # once, on the whole message
            # Both parts are base64, which has no "_": this boundary cannot occur in them (and
            # the generator need not search the text for a free one).
            boundary = f"=_duban_{message.notification_id}_{secrets.token_hex(8)}"
            mail = MIMEMultipart("alternative", boundary=boundary, _subparts=(text, html))
        mail["From"] = self._from_header
        mail["To"] = _mailbox(message.recipient_name, address)
        mail["Subject"] = _text(message.subject or "")  # type: ignore[assignment]  # compat32 takes a Header
        mail["Date"] = format_datetime(self.clock.now())
        mail["Message-ID"] = _one_line(
            message.message_id or message_id_for(message.notification_id, self.domain)
        )
        if message.in_reply_to:
            mail["In-Reply-To"] = _one_line(message.in_reply_to)
        if message.references:
            mail["References"] = _one_line(" ".join(message.references))
        if self.reply_to and self._sealer and message.assignment_id and message.kind != MAIL_REPLY:
            # A per-recipient signed address: a reply still finds its reminder when the
            # sender's client drops In-Reply-To and References.
            mail["Reply-To"] = reply_address(self._sealer, self.reply_to, message.notification_id)
        mail["Auto-Submitted"] = "auto-generated"
        return mail

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send, mapping SMTP replies to transient (4xx, network) or permanent (5xx)."""
        address = self.envelope_address(message)
        mail = self.build(message, address)
        data = mail.as_bytes()  # all ASCII: encoded-words, base64 bodies, IDNA domains
        try:
            await self._deliver(address, data)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            code = refused.code if refused else 0
            raise self.error_for(
                code, f"recipient refused: {code} {refused and refused.message}"
            ) from None
        except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPAuthenticationError) as exc:
            # Our own configuration is at fault, not this message: retry once it is fixed.
            raise TransientError(
                self._safe(f"{type(exc).__name__}: {exc.code} {exc.message}")
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self.error_for(
                exc.code, f"{type(exc).__name__}: {exc.code} {exc.message}"
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ValueError) as exc:
            raise TransientError(
                self._safe(f"SMTP unavailable: {type(exc).__name__}: {exc}")
            ) from None
        return SendResult(provider_message_id=str(mail["Message-ID"]))

    async def _open(self) -> aiosmtplib.SMTP:
        c = self.config
        client = aiosmtplib.SMTP(
            hostname=c.host,
            port=c.port,
            username=c.username,
            password=c.password,
            use_tls=c.use_tls,
            start_tls=c.starttls,  # False: never upgrade unasked
            timeout=c.timeout,
        )
        await client.connect()
        return client

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        """The most recently used idle connection still fresh; stale ones are closed."""
        now = self._monotonic()
        while self._idle:
            client, used = self._idle.pop()
            if now - used <= self.idle_seconds and client.is_connected:
                return client
            client.close()  # idle too long: the server may have dropped it already
        return None

    async def _deliver(self, address: str, data: bytes) -> None:
        """One transaction on a pooled connection (at most ``pool_size`` at once)."""
        async with self._slots:
            client = self._take_idle()
            if client is not None:
                try:
                    await client.sendmail(self.sender, [address], data)
                except aiosmtplib.SMTPServerDisconnected:
                    client.close()  # dropped while idle: once more on a fresh connection
                except BaseException:
                    client.close()
                    raise
                else:
                    self._idle.append((client, self._monotonic()))
                    return
            client = await self._open()
            try:
                await client.sendmail(self.sender, [address], data)
            except BaseException:
                client.close()
                raise
            self._idle.append((client, self._monotonic()))

    @staticmethod
    async def _quit(client: aiosmtplib.SMTP) -> None:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()

    @property
    def idle_connections(self) -> int:
        """Connections kept open for the next message."""
        return len(self._idle)

    async def close(self) -> None:
        """Say QUIT on the pooled connections."""
        idle, self._idle = self._idle, []
        await asyncio.gather(*(self._quit(client) for client, _ in idle))

    def error_for(self, code: int, text: str) -> TransientError | PermanentError:
        """The error an SMTP reply ``code`` means: 5xx is permanent, anything else is worth
        retrying; the server's text without the password."""
        text = self._safe(text)
        return PermanentError(text) if 500 <= code < 600 else TransientError(text)

    def _safe(self, text: str) -> str:
        return redact(text, self.config.password)
