"""The office mailbox's address: ``DUBAN_IMAP_URL`` parsed into a plain config.

``imaps://user:pass@host:993/INBOX`` (TLS) or ``imap://…:143/INBOX`` (plain, for a trusted
network or loopback); the user and password are URL-encoded (``duban%40office.gov.cn``). The
password is kept out of ``repr`` and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["ImapConfig", "parse_imap_url"]


@dataclass(frozen=True)
class ImapConfig:
    """Where to read replies from and how often to look when IDLE is not offered."""

    host: str
    port: int
    username: str
    password: str = field(repr=False)
    mailbox: str = "INBOX"
    use_tls: bool = True
    #: seconds between looks when the server has no IDLE (and the longest an IDLE lasts)
    poll_seconds: float = 60.0
    timeout: float = 30.0
    #: a folder to move handled messages to (created if missing); None: mark them \\Seen
    done_folder: str | None = None
    #: use IDLE when the server offers it (``?idle=no``: poll, for servers whose IDLE is
    #: unreliable behind a proxy)
    idle: bool = True
    #: a larger message is not downloaded: its headers are read and the sender is told
    max_message_bytes: int = 32 * 1024 * 1024

    def where(self) -> str:
        """The mailbox for logs and the CLI: no password."""
        scheme = "imaps" if self.use_tls else "imap"
        return f"{scheme}://{self.username}@{self.host}:{self.port}/{self.mailbox}"


def parse_imap_url(url: str) -> ImapConfig:
    """An :class:`ImapConfig` from ``imap[s]://user:pass@host[:port][/MAILBOX]`` with optional
    ``?poll=60&move=Done&idle=no``; ValueError naming what is wrong (never the password)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError("must start with imaps:// or imap://")
    if not parts.hostname:
        raise ValueError("has no host")
    if not parts.username or parts.password is None:
        raise ValueError("needs the mailbox's user and password (imaps://user:pass@host/INBOX)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    use_tls = parts.scheme == "imaps"
    try:
        poll = float(query.get("poll", "60"))
        timeout = float(query.get("timeout", "30"))
    except ValueError:
        raise ValueError("poll and timeout must be numbers of seconds") from None
    if poll <= 0 or timeout <= 0:
        raise ValueError("poll and timeout must be positive")
    return ImapConfig(
        host=parts.hostname,
        port=port or (993 if use_tls else 143),
        username=unquote(parts.username),
        password=unquote(parts.password),
        mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
        use_tls=use_tls,
        poll_seconds=poll,
        timeout=timeout,
        done_folder=query.get("move") or None,
        idle=query.get("idle", "yes").lower() not in ("no", "false", "0", "off"),
    )
