"""The IMAP loop: read unseen messages of the office mailbox and hand each to a handler.

A message is fetched with ``BODY.PEEK[]`` (which leaves it unseen), handed to the handler
(which commits what it caused), and only then marked ``\\Seen`` or moved to the done folder.
A crash before the commit leaves it unseen, so the next pass reads it again; a crash after
the commit and before the flag is caught by the handler (the message's row exists). New mail
is waited for with IDLE where the server offers it, by polling otherwise. Imports
``aioimaplib`` and ``supervision.mail_replies`` (for the message reference only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from aioimaplib import aioimaplib

from notifier.mailbox.config import ImapConfig
from supervision.mail_replies import MailRef, MailResult

__all__ = ["ImapError", "MailHandler", "MailboxReader"]

log = logging.getLogger("duban.mailbox")

#: Acts on one message and commits; returns what it came to.
MailHandler = Callable[[MailRef, bytes], Awaitable[MailResult]]

_UIDVALIDITY = re.compile(rb"\[UIDVALIDITY (\d+)\]")
_FETCH_UID = re.compile(rb"UID (\d+)")
#: the first reconnect waits this long, doubling up to the poll interval
_FIRST_RETRY = 1.0


class ImapError(Exception):
    """The mailbox cannot be read (refused login, missing folder, a broken connection).

    The message never holds the password."""


def _check(response: Any, what: str) -> list[Any]:
    if response.result != "OK":
        detail = b" ".join(x for x in response.lines if isinstance(x, bytes | bytearray))
        raise ImapError(f"IMAP {what} failed: {detail.decode(errors='replace')[:200]}")
    return list(response.lines)


class MailboxReader:
    """One connection to the office mailbox; `poll_once` for a pass, `run` to keep reading."""

    def __init__(
        self,
        config: ImapConfig,
        handle: MailHandler,
        *,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.config = config
        self.handle = handle
        self.ssl_context = ssl_context
        self._client: aioimaplib.IMAP4 | None = None
        self.uidvalidity = 0
        #: set while the reader waits for new mail (in IDLE, or between polls)
        self.waiting = asyncio.Event()

    def __repr__(self) -> str:
        return f"MailboxReader({self.config.where()})"

    async def __aenter__(self) -> MailboxReader:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def supports_idle(self) -> bool:
        """Whether IDLE is used: offered by the server (after `connect`) and not turned off."""
        return self.config.idle and self._client is not None and self._client.has_capability("IDLE")

    async def connect(self) -> None:
        """Connect, log in and select the mailbox; ImapError if that is refused."""
        c = self.config
        client: aioimaplib.IMAP4
        try:
            if c.use_tls:
                client = aioimaplib.IMAP4_SSL(
                    host=c.host, port=c.port, timeout=c.timeout, ssl_context=self.ssl_context
                )
            else:
                client = aioimaplib.IMAP4(host=c.host, port=c.port, timeout=c.timeout)
            await client.wait_hello_from_server()
        except (OSError, TimeoutError, aioimaplib.AioImapException) as exc:
            raise ImapError(f"cannot reach {c.where()}: {type(exc).__name__}: {exc}") from None
        self._client = client
        response = await client.login(c.username, c.password)
        if response.result != "OK":
            await self.close()
            raise ImapError(f"login to {c.where()} refused (check the user and password)")
        lines = _check(await client.select(c.mailbox), f"SELECT {c.mailbox}")
        found = next(
            (m for line in lines if isinstance(line, bytes) and (m := _UIDVALIDITY.search(line))),
            None,
        )
        if found is None:
            raise ImapError(f"the server gave no UIDVALIDITY for {c.mailbox}")
        self.uidvalidity = int(found.group(1))
        if c.done_folder:
            await client.create(c.done_folder)  # NO when it exists: fine

    async def close(self) -> None:
        """Log out (quietly: the connection may be gone already)."""
        client, self._client = self._client, None
        if client is None:
            return
        with contextlib.suppress(Exception):
            if client.has_pending_idle():
                client.idle_done()
            await asyncio.wait_for(client.logout(), 5)

    def _ready(self) -> aioimaplib.IMAP4:
        if self._client is None:
            raise ImapError("not connected")
        return self._client

    async def unseen(self, *criteria: str) -> list[int]:
        """The UIDs of the unseen messages (matching ``criteria`` too), oldest first."""
        lines = _check(await self._ready().uid_search("UNSEEN", *criteria, charset=None), "SEARCH")
        uids: list[int] = []
        for line in lines:
            if isinstance(line, bytes) and line and line[:1].isdigit():
                uids += [int(x) for x in line.split() if x.isdigit()]
        return sorted(set(uids))

    async def fetch(self, uid: int, *, headers_only: bool = False) -> bytes | None:
        """The whole message, or its headers (leaving it unseen); None if it is gone."""
        part = "BODY.PEEK[HEADER]" if headers_only else "BODY.PEEK[]"
        lines = _check(await self._ready().uid("fetch", str(uid), f"(UID {part})"), "FETCH")
        for i, line in enumerate(lines):
            if isinstance(line, bytes) and _FETCH_UID.search(line) and i + 1 < len(lines):
                body = lines[i + 1]
                if isinstance(body, bytes | bytearray):
                    return bytes(body)
        return None

    async def done(self, uid: int) -> None:
        """Mark a handled message seen, or move it to the done folder."""
        client = self._ready()
        folder = self.config.done_folder
        if folder and client.has_capability("MOVE"):
            _check(await client.uid("move", str(uid), folder), "MOVE")
            return
        _check(await client.uid("store", str(uid), "+FLAGS", "(\\Seen)"), "STORE")

    async def poll_once(self) -> list[MailResult]:
        """Handle every unseen message once; what each came to, in order."""
        results: list[MailResult] = []
        uids = await self.unseen()
        large = (
            set(await self.unseen("LARGER", str(self.config.max_message_bytes))) if uids else set()
        )
        for uid in uids:
            raw = await self.fetch(uid, headers_only=uid in large)
            if raw is None:
                continue
            ref = MailRef(self.config.mailbox, self.uidvalidity, uid, headers_only=uid in large)
            try:
                result = await self.handle(ref, raw)
            except (ImapError, OSError, TimeoutError, aioimaplib.AioImapException):
                raise
            except Exception:
                # The database is down, or a fault: the message stays unseen and is read
                # again on the next pass; the others are not held up.
                log.exception("mail %s could not be handled; it stays unseen", uid)
                continue
            await self.done(uid)
            log.info("mail %s: %s", uid, result.line())
            results.append(result)
        return results

    async def wait_for_mail(self, stop: asyncio.Event) -> None:
        """Return when new mail may have arrived: an IDLE push, the poll interval, or stop."""
        client = self._ready()
        if not self.supports_idle:
            self.waiting.set()
            try:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.config.poll_seconds)
            finally:
                self.waiting.clear()
            return
        idle = await client.idle_start(timeout=self.config.poll_seconds)
        stopping = asyncio.ensure_future(stop.wait())
        self.waiting.set()
        try:
            while not stop.is_set():
                push = asyncio.ensure_future(client.wait_server_push())
                finished, _ = await asyncio.wait(
                    {push, stopping}, return_when=asyncio.FIRST_COMPLETED
                )
                if push not in finished:
                    push.cancel()
                    break
                lines = push.result()
                if lines == aioimaplib.STOP_WAIT_SERVER_PUSH:
                    break  # the IDLE timed out: look anyway, then IDLE again
                if any(b"EXISTS" in x for x in lines if isinstance(x, bytes)):
                    break
        finally:
            self.waiting.clear()
            stopping.cancel()
            if client.has_pending_idle():
                client.idle_done()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(idle, self.config.timeout)

    async def run(
        self,
        stop: asyncio.Event,
        on_result: Callable[[MailResult], None] | None = None,
    ) -> None:
        """Read until ``stop`` is set, reconnecting (with a growing pause) after failures."""
        pause = _FIRST_RETRY
        while not stop.is_set():
            try:
                if self._client is None:
                    await self.connect()
                    log.info(
                        "reading replies from %s (%s)",
                        self.config.where(),
                        "IDLE"
                        if self.supports_idle
                        else f"polling every {self.config.poll_seconds:g} s",
                    )
                for result in await self.poll_once():
                    if on_result is not None:
                        on_result(result)
                pause = _FIRST_RETRY
                await self.wait_for_mail(stop)
            except (ImapError, OSError, TimeoutError, aioimaplib.AioImapException) as exc:
                log.warning("mailbox %s: %s; retrying in %g s", self.config.where(), exc, pause)
                await self.close()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(pause * 2, self.config.poll_seconds)
        await self.close()
