"""The handler the IMAP loop calls: one message, one transaction, committed before it returns.

Imports ``supervision.mail_replies`` (the rules) and SQLAlchemy; holds the session factory.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from supervision.mail_parsing import read_mail
from supervision.mail_replies import MailRef, MailReplies, MailResult, result_of

__all__ = ["MailFiler"]


class MailFiler:
    """Handles a message with `MailReplies` in a transaction of its own and commits it.

    ``before_commit`` is called with the message's reference after everything is written and
    before the commit (tests kill the process there to prove a crash files nothing).
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        replies: MailReplies,
        *,
        before_commit: Callable[[MailRef], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.replies = replies
        self.before_commit = before_commit

    async def __call__(self, ref: MailRef, raw: bytes) -> MailResult:
        """Act on the message and commit; a message another reader committed first counts
        as handled."""
        try:
            async with self.sessions() as session, session.begin():
                result = await self.replies.handle(session, ref, raw)
                if self.before_commit is not None:
                    self.before_commit(ref)
        except IntegrityError:
            # Another reader committed the same message (UID or Message-ID) meanwhile: its
            # row says what came of it. Any other conflict is a fault and is raised.
            async with self.sessions() as session:
                earlier = await self.replies.earlier(session, ref, read_mail(raw).message_id)
            if earlier is None:
                raise
            return result_of(earlier)
        return result
