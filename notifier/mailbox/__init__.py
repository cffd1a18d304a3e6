"""Reading the office mailbox over IMAP: e-mail replies to reminders become reports.

`MailboxReader` is the IMAP loop (IDLE or polling), `MailFiler` the handler that files one
message in its own transaction, `parse_imap_url` reads ``DUBAN_IMAP_URL``.
"""

from notifier.mailbox.config import ImapConfig, parse_imap_url
from notifier.mailbox.filing import MailFiler
from notifier.mailbox.reader import ImapError, MailboxReader, MailHandler

__all__ = [
    "ImapConfig",
    "ImapError",
    "MailFiler",
    "MailHandler",
    "MailboxReader",
    "parse_imap_url",
]
