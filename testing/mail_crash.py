"""Killed mid-filing: reads the inbox and dies with SIGKILL just before the commit.

``python testing/mail_crash.py DATABASE_URL IMAP_URL`` (run by test_mailbox_imap.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from models.db import create_engine, create_sessionmaker
from notifier.mailbox import MailboxReader, MailFiler, parse_imap_url
from supervision.clock import SystemClock
from supervision.mail_replies import MailRef
from testing.mail_support import replies


def die(ref: MailRef) -> None:
    """The hook point: everything is written and flushed, nothing committed."""
    print(f"before commit of uid {ref.uid}", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


async def main(db_url: str, imap_url: str) -> None:
    engine = create_engine(db_url)
    filer = MailFiler(create_sessionmaker(engine), replies(SystemClock()), before_commit=die)
    async with MailboxReader(parse_imap_url(imap_url), filer) as reader:
        await reader.poll_once()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
