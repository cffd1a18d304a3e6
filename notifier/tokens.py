"""Access tokens of the chat platforms' server APIs (WeCom, DingTalk, Feishu): cached, renewed.

Each platform hands out a token valid about 7200 s and asks callers to reuse it rather than
fetch one per call. A :class:`TokenKeeper` caches it in a :class:`TokenStore` (this process,
or Redis shared by every worker) and fetches a new one a margin before it expires, one fetch
at a time per process; a call the platform answers "token invalid/expired" drops it.
Imports nothing of Duban but the clock.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis

from supervision.clock import Clock

#: fetch a new token this long before the old one expires
REFRESH_MARGIN = timedelta(minutes=5)
#: the longest a platform's token lives (Redis forgets a shared one after this)
MAX_TTL_SECONDS = 7200


class TokenStore(Protocol):
    """Where the access token lives between calls (a process or every worker)."""

    async def get(self) -> tuple[str, datetime] | None: ...

    async def put(self, token: str, expires_at: datetime) -> None: ...

    async def drop(self, token: str) -> None: ...

    async def close(self) -> None: ...


class MemoryTokenStore:
    """The token in this process only."""

    def __init__(self) -> None:
        self._value: tuple[str, datetime] | None = None

    async def get(self) -> tuple[str, datetime] | None:
        """The cached token and its expiry."""
        return self._value

    async def put(self, token: str, expires_at: datetime) -> None:
        """Cache ``token``."""
        self._value = (token, expires_at)

    async def drop(self, token: str) -> None:
        """Forget ``token`` (if it is still the cached one)."""
        if self._value is not None and self._value[0] == token:
            self._value = None

    async def close(self) -> None:
        """Nothing to release."""


class SharedTokenStore:
    """The token in Redis under ``key``, shared by every worker of the office."""

    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key

    async def get(self) -> tuple[str, datetime] | None:
        """The shared token and its expiry."""
        raw = await self.redis.get(self.key)
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return str(data["token"]), datetime.fromisoformat(str(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None

    async def put(self, token: str, expires_at: datetime) -> None:
        """Share ``token``; Redis forgets it when it expires."""
        value = json.dumps({"token": token, "expires_at": expires_at.isoformat()})
        await self.redis.set(self.key, value, ex=MAX_TTL_SECONDS)

    async def drop(self, token: str) -> None:
        """Forget ``token`` unless another worker already replaced it."""
        current = await self.get()
        if current is not None and current[0] == token:
            await self.redis.delete(self.key)

    async def close(self) -> None:
        """Close the Redis connection."""
        await self.redis.aclose()


#: fetches a new token: (token, seconds it is valid)
Fetch = Callable[[], Awaitable[tuple[str, int]]]


class TokenKeeper:
    """A valid token on demand: the cached one, or a new one a margin before expiry."""

    def __init__(self, store: TokenStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._lock = asyncio.Lock()

    async def _fresh(self) -> str | None:
        cached = await self.store.get()
        if cached is not None and self.clock.now() < cached[1] - REFRESH_MARGIN:
            return cached[0]
        return None

    async def token(self, fetch: Fetch) -> str:
        """The cached token, or the one ``fetch`` gets (one fetch at a time per process)."""
        token = await self._fresh()
        if token is not None:
            return token
        async with self._lock:
            token = await self._fresh()
            if token is not None:
                return token
            token, seconds = await fetch()
            await self.store.put(token, self.clock.now() + timedelta(seconds=seconds))
            return token

    async def drop(self, token: str) -> None:
        """Forget ``token``: the platform said it is invalid or expired."""
        await self.store.drop(token)

    async def close(self) -> None:
        """Close the store."""
        await self.store.close()


def token_store(redis_url: str | None, key: str) -> TokenStore:
    """A store shared through Redis under ``key`` when there is Redis, else this process's."""
    if redis_url:
        return SharedTokenStore(Redis.from_url(redis_url), key)
    return MemoryTokenStore()
