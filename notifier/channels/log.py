"""The log channel: writes what would be sent, clearly marked NOT SENT.

Used for the demo, and in place of any channel whose configuration is missing (no Telegram
token, no SMTP URL): the delivery log then shows ``channel="log"`` for that attempt.
"""

from __future__ import annotations

import logging

from notifier.channels.base import BaseChannel, OutgoingMessage, SendResult, scrub

log = logging.getLogger("duban.notifier.log_channel")


class LogChannel(BaseChannel):
    """Logs the message instead of sending it."""

    kind = "log"

    def __init__(self, logger: logging.Logger | None = None) -> None:
        self.log = logger or log
        self.count = 0

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Log the message; the row is marked sent with the substitution noted."""
        self.count += 1
        stood_in = message.channel != self.kind
        why = f" ({message.channel} is not configured)" if stood_in else ""
        self.log.info(
            "NOT SENT (log channel)%s: notification %s %s to %s%s\n%s",
            why,
            message.notification_id,
            message.kind,
            message.recipient_name or "-",
            f" <{message.address}>" if message.address and message.channel != "telegram" else "",
            scrub(
                (f"[{message.subject}] " if message.subject else "") + message.text, message.secrets
            ),
        )
        note = f"NOT SENT: logged by the log channel{why}"
        return SendResult(
            provider_message_id=f"log-{message.notification_id}",
            substituted_by=self.kind if stood_in else None,
            note=note,
        )
