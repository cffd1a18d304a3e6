"""What the chat platforms' server API clients share (WeCom, DingTalk, Feishu): an aiohttp
session opened on first use (or the caller's), the access token kept by a `TokenKeeper`, and
closing both. Each platform's module adds its calls and maps its own error codes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp

from notifier.tokens import MemoryTokenStore, TokenKeeper, TokenStore
from supervision.clock import Clock, SystemClock

__all__ = ["Answer", "PlatformClient"]


@dataclass(frozen=True)
class Answer:
    """What the platform answered one request: the status, the body text and the headers
    (looked up without regard to case)."""

    status: int
    text: str
    headers: Mapping[str, str]


class PlatformClient:
    """The HTTP session and token of one platform application."""

    #: the platform's name in error messages, and the error a failed request raises
    platform: ClassVar[str] = "platform"
    network_error: ClassVar[type[Exception]] = ConnectionError

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

    async def _request(
        self,
        method: str,
        url: str,
        *,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """One request; a network failure raises :attr:`network_error` naming ``path`` (the
        URL may carry a secret, so it is never in the message)."""
        client = await self._client()
        try:
            async with client.request(
                method, url, params=params, json=body, headers=headers
            ) as resp:
                return Answer(resp.status, await resp.text(), resp.headers.copy())
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise self.network_error(
                f"{self.platform} {path}: network error {type(exc).__name__}"
            ) from None

    def _json_object(self, answered: Answer, path: str) -> dict[str, Any]:
        """The JSON object of a successful answer; an HTTP error, or a body that is not a
        JSON object, raises :attr:`network_error` (the platform's error codes are the
        caller's to read)."""
        if answered.status >= 400:
            raise self.network_error(f"{self.platform} {path}: HTTP {answered.status}")
        try:
            answer = json.loads(answered.text)
        except ValueError:
            raise self.network_error(f"{self.platform} {path}: answer is not JSON") from None
        if not isinstance(answer, dict):
            raise self.network_error(f"{self.platform} {path}: unexpected answer")
        return answer

    async def close(self) -> None:
        """Close the HTTP session this client opened and the token store."""
        await self.tokens.close()
        if self._own_session and self._session is not None and not self._session.closed:
            await self._session.close()
