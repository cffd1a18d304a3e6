"""What the chat platforms' server API clients share (WeCom, DingTalk, Feishu): an aiohttp
session opened on first use (or the caller's), the access token kept by a `TokenKeeper`, and
closing both. Each platform's module adds its calls and maps its own error codes."""

from __future__ import annotations

import aiohttp

from notifier.tokens import MemoryTokenStore, TokenKeeper, TokenStore
from supervision.clock import Clock, SystemClock

__all__ = ["PlatformClient"]


class PlatformClient:
    """The HTTP session and token of one platform application."""

    def __init__(
        self,
        timeout: float,
        *,
        store: TokenStore | None = None,
        clock: Clock | None = None,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.clock = clock or SystemClock()
        self.tokens = TokenKeeper(store or MemoryTokenStore(), self.clock)
        self._timeout = timeout
        self._session = session
        self._own_session = session is None

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
            self._own_session = True
        return self._session

    async def close(self) -> None:
        """Close the HTTP session this client opened and the token store."""
        await self.tokens.close()
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()
