"""The channel contract: an outgoing message, a send result, the two failure kinds, a registry.

A channel is one small class with ``kind`` and one async ``send``; it raises
:class:`TransientError` (retry on the schedule) or :class:`PermanentError` (fail and fall back).
Imports nothing from ``notifier.delivery``: delivery imports channels, never the reverse.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from notifier.ratelimit import Rate
from supervision.robots import masked_url

log = logging.getLogger("duban.notifier")


@dataclass(frozen=True)
class OutgoingMessage:
    """One rendered message for one address on one channel (plain data, no ORM objects)."""

    notification_id: int
    kind: str
    channel: str
    address: str | None
    text: str
    subject: str | None = None
    html: str | None = None
    locale: str = "zh"
    recipient_name: str = ""
    #: Telegram: show the report / close / extension buttons for this assignment
    assignment_id: int | None = None
    buttons: bool = False
    #: the row's payload (e.g. ``report_id`` / ``extension_id``): Telegram builds
    #: review and sign-off buttons from it
    payload: Mapping[str, object] = field(default_factory=dict, compare=False, hash=False)
    #: e-mail threading: our Message-ID and the message this one answers
    message_id: str | None = None
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    #: group robots: the webhook (its URL holds the robot key) and the signing secret
    webhook_id: int | None = None
    webhook_url: str | None = field(default=None, repr=False)
    webhook_secret: str | None = field(default=None, repr=False)
    #: values in the text that must not be logged or kept (an invite link): see `scrub`
    secrets: tuple[str, ...] = field(default=(), repr=False)


#: What a secret in a message is replaced with wherever the message is logged or kept.
HIDDEN = "[已隐去 hidden]"


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret value replaced by `HIDDEN`."""
    for secret in secrets:
        text = text.replace(secret, HIDDEN)
    return text


@dataclass(frozen=True)
class SendResult:
    """What the provider told us about a message it accepted."""

    provider_message_id: str | None = None
    chat_id: int | None = None
    chat_message_id: int | None = None
    #: set when another channel stood in (``log`` for an unconfigured one)
    substituted_by: str | None = None
    note: str | None = None


class SendError(Exception):
    """A send that did not go through; ``str(e)`` is safe to log (no secrets)."""


class TransientError(SendError):
    """Worth retrying later: network trouble, 5xx, 4xx SMTP, a robot's rate limit."""


class RateLimited(TransientError):
    """The provider asked us to slow down; ``pause_key`` is paused for ``retry_after`` s."""

    def __init__(self, message: str, *, retry_after: float, pause_key: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.pause_key = pause_key


class PermanentError(SendError):
    """Retrying cannot help: blocked bot, unknown chat, address rejected, bad robot key."""


@runtime_checkable
class Channel(Protocol):
    """Sends one message of its ``kind``."""

    kind: str

    def rates(self, message: OutgoingMessage) -> Sequence[Rate]:
        """The rate limits to hold before sending ``message`` (empty: none)."""
        ...

    async def send(self, message: OutgoingMessage) -> SendResult:
        """Send, or raise TransientError / PermanentError."""
        ...

    async def close(self) -> None:
        """Release network resources."""
        ...


class BaseChannel:
    """Defaults for channels without rate limits or resources to close."""

    kind: str = ""

    def rates(self, message: OutgoingMessage) -> Sequence[Rate]:
        """No limits by default."""
        return ()

    async def close(self) -> None:
        """Nothing to close by default."""


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret (token, password, webhook URL or key) masked."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def redact_url(url: str) -> str:
    """A URL safe to log: scheme, host and path, query values masked (robot keys live there);
    the one rule of `supervision.robots.masked_url`."""
    return masked_url(url)


class ChannelRegistry:
    """Channels by kind; a kind with no configured channel is served by ``substitute``."""

    def __init__(self, channels: Iterable[Channel], substitute: Channel | None = None) -> None:
        self._channels = {c.kind: c for c in channels}
        self._substitute = substitute

    def get(self, kind: str) -> Channel:
        """The channel for ``kind``, or the substitute (the log channel) when it is missing."""
        channel = self._channels.get(kind)
        if channel is not None:
            return channel
        if self._substitute is None:
            raise KeyError(f"no channel for {kind!r}")
        return self._substitute

    def configured(self, kind: str) -> bool:
        """True when a real channel serves ``kind``."""
        return kind in self._channels

    @property
    def kinds(self) -> list[str]:
        """The configured kinds."""
        return sorted(self._channels)

    async def close(self) -> None:
        """Close every channel (errors are logged, not raised)."""
        seen: list[Channel] = list(self._channels.values())
        if self._substitute is not None:
            seen.append(self._substitute)
        for channel in seen:
            try:
                await channel.close()
            except Exception as exc:
                log.warning("closing channel %s failed: %s", channel.kind, type(exc).__name__)
