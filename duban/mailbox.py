"""Wiring the reader of e-mail replies (IMAP) into a process or ``duban mail poll``.

Apart from ``duban.process``: reading the mailbox needs neither the web app nor aiogram, and
``duban mail poll --once`` should not take seconds to import them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from duban.runtime import Runtime
from notifier.mailbox import MailboxReader, MailFiler
from supervision.mail_replies import AttachmentLimits, MailReplies
from supervision.sealing import Sealer

log = logging.getLogger("duban")


def mail_reader(runtime: Runtime) -> MailboxReader | None:
    """The reader of e-mail replies (``DUBAN_IMAP_URL``), or None when it is not set."""
    s = runtime.settings
    config = s.mail.imap
    if config is None:
        return None
    megabyte = 1024 * 1024
    replies = MailReplies(
        clock=runtime.clock,
        tz=s.office.tz,
        sealer=Sealer(s.security.secret_key.get_secret_value()),
        reply_to=s.mail.reply_to,
        limits=AttachmentLimits(
            max_file_bytes=int(s.mail.attachment_max_mb * megabyte),
            max_total_bytes=int(s.mail.attachments_total_mb * megabyte),
        ),
    )
    # Attachments travel base64-encoded (4/3 of their size), with the text around them.
    largest = int(s.mail.attachments_total_mb * megabyte * 4 / 3) + 2 * megabyte
    config = dataclasses.replace(config, max_message_bytes=largest)
    return MailboxReader(config, MailFiler(runtime.sessions, replies))


async def run_mail_reader(runtime: Runtime, stop: asyncio.Event) -> None:
    """Read e-mail replies until ``stop`` is set (nothing to do without ``DUBAN_IMAP_URL``)."""
    reader = mail_reader(runtime)
    if reader is None:
        log.info("DUBAN_IMAP_URL is not set: e-mail replies are not read")
        return
    await reader.run(stop)
