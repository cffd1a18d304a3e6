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
    """Sends one e-mail per message over a fresh SMTP connection."""

    kind = "email"

    def __init__(self, config: MailConfig, *, mail_from: str, clock: Clock | None = None) -> None:
        self.config = config
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
        c = self.config
        try:
            await aiosmtplib.send(
                mail,
                hostname=c.host,
                port=c.port,
                username=c.username,
                password=c.password,
                use_tls=c.use_tls,
                start_tls=c.starttls,  # False: never upgrade unasked
                timeout=c.timeout,
            )
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

    def _by_code(self, code: int, text: str) -> TransientError | PermanentError:
        text = self._safe(text)
        return PermanentError(text) if 500 <= code < 600 else TransientError(text)

    def _safe(self, text: str) -> str:
        return redact(text, self.config.password)
