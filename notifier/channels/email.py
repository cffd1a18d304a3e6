"""E-mail through SMTP (aiosmtplib): multipart text + HTML, stable Message-IDs, threading.

4xx replies and connection trouble are transient; a 5xx refusal of the address or the
message is permanent. The SMTP password never appears in a log line or error.
"""

from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
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

DEFAULT_DOMAIN: Final = "duban.localhost"


def mail_domain(mail_from: str) -> str:
    """The domain of the sender address (for Message-IDs)."""
    pairs = getaddresses([mail_from])
    address = pairs[0][1] if pairs else ""
    return address.rsplit("@", 1)[1].strip().lower() if "@" in address else DEFAULT_DOMAIN


def message_id_for(notification_id: int, domain: str) -> str:
    """The stable Message-ID of the e-mail for one outbox row."""
    return f"<notification-{notification_id}@{domain}>"


class EmailChannel(BaseChannel):
    """Sends one e-mail per message, reusing up to ``pool_size`` idle SMTP connections."""

    kind = "email"

    def __init__(
        self,
        config: MailConfig,
        *,
        mail_from: str,
        clock: Clock | None = None,
        pool_size: int = 8,
    ) -> None:
        self.config = config
        self.pool_size = pool_size
        self._idle: list[aiosmtplib.SMTP] = []
        self.mail_from = mail_from
        self.domain = mail_domain(mail_from)
        self.clock = clock or SystemClock()

    def build(self, message: OutgoingMessage) -> EmailMessage:
        """The MIME message: text part, HTML alternative, Message-ID and thread headers."""
        if not message.address or "@" not in message.address:
            raise PermanentError(f"not an e-mail address: {message.address!r}")
        mail = EmailMessage()
        mail["From"] = self.mail_from
        try:
            mail["To"] = (
                formataddr((message.recipient_name, message.address))
                if message.recipient_name
                else str(Address(addr_spec=message.address))
            )
        except (ValueError, IndexError) as exc:
            raise PermanentError(f"not an e-mail address: {message.address!r}") from exc
        mail["Subject"] = message.subject or ""
        mail["Date"] = format_datetime(self.clock.now())
        mail["Message-ID"] = message.message_id or message_id_for(
            message.notification_id, self.domain
        )
        if message.in_reply_to:
            mail["In-Reply-To"] = message.in_reply_to
        if message.references:
            mail["References"] = " ".join(message.references)
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.text or " ")
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        return mail

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send, mapping SMTP replies to transient (4xx, network) or permanent (5xx)."""
        mail = self.build(message)
        try:
            await self._deliver(mail)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0] if exc.recipients else None
            code = refused.code if refused else 0
            raise self._by_code(
                code, f"recipient refused: {code} {refused and refused.message}"
            ) from None
        except (aiosmtplib.SMTPSenderRefused, aiosmtplib.SMTPAuthenticationError) as exc:
            # Our own configuration is at fault, not this message: retry once it is fixed.
            raise TransientError(
                self._safe(f"{type(exc).__name__}: {exc.code} {exc.message}")
            ) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._by_code(
                exc.code, f"{type(exc).__name__}: {exc.code} {exc.message}"
            ) from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
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

    async def _deliver(self, mail: EmailMessage) -> None:
        """Send over an idle connection when there is one, else a new one; keep it after."""
        client = self._idle.pop() if self._idle else None
        if client is not None:
            try:
                await client.send_message(mail)
            except ConnectionError:
                client.close()  # the server dropped the idle connection: once more, fresh
            except BaseException:
                client.close()
                raise
            else:
                await self._release(client)
                return
        client = await self._open()
        try:
            await client.send_message(mail)
        except BaseException:
            client.close()
            raise
        await self._release(client)

    async def _release(self, client: aiosmtplib.SMTP) -> None:
        if len(self._idle) < self.pool_size and client.is_connected:
            self._idle.append(client)
            return
        await self._quit(client)

    @staticmethod
    async def _quit(client: aiosmtplib.SMTP) -> None:
        try:
            await client.quit()
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            client.close()

    async def close(self) -> None:
        """Say QUIT on the idle connections."""
        idle, self._idle = self._idle, []
        for client in idle:
            await self._quit(client)

    def _by_code(self, code: int, text: str) -> TransientError | PermanentError:
        text = self._safe(text)
        return PermanentError(text) if 500 <= code < 600 else TransientError(text)

    def _safe(self, text: str) -> str:
        return redact(text, self.config.password)
