"""Rate limits held before sending: GCRA per key, plus a shared pause after a 429.

Two limiters with one interface: :class:`RedisLimiter` (atomic Lua, shared by every worker) and
:class:`MemoryLimiter` (single-process mode). Both take an injectable clock and sleep, so tests
move time instead of waiting. Imports only redis and ``supervision.clock``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from supervision.clock import Clock, SystemClock

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Rate:
    """At most ``per_second`` messages a second under ``key``, bursts of ``burst``.

    GCRA (a token bucket of size ``burst`` refilled at ``per_second``): bursts of one spread
    sends evenly, which stays under a provider's bucket whatever its size.
    """

    key: str
    per_second: float
    burst: int = 1

    @property
    def interval(self) -> float:
        """Seconds between two sends at the steady rate."""
        return 1.0 / self.per_second

    @property
    def tolerance(self) -> float:
        """How far ahead of the steady rate a burst may run, in seconds."""
        return self.interval * (self.burst - 1)


class Limiter(Protocol):
    """Takes a slot under every rate at once, or says how long to wait."""

    async def try_acquire(self, rates: Sequence[Rate]) -> float:
        """0.0 when a slot was taken under every rate; else seconds until one may be free."""
        ...

    async def pause(self, key: str, seconds: float) -> None:
        """Refuse every rate with this ``key`` for ``seconds`` (a 429's ``retry_after``)."""
        ...

    async def acquire(self, rates: Sequence[Rate], *, max_wait: float) -> float:
        """Wait for a slot up to ``max_wait`` s: 0.0 when taken, else the wait still needed."""
        ...

    async def paused_for(self, rates: Sequence[Rate]) -> float:
        """Seconds left of a pause on any of these rates (0.0 when none)."""
        ...


class _LimiterBase(ABC):
    """What both limiters share: the clock, the sleep and the waiting loop of ``acquire``."""

    def __init__(self, clock: Clock | None = None, sleep: Sleep | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self.sleep: Sleep = sleep or asyncio.sleep

    def _now(self) -> float:
        return self.clock.now().timestamp()

    @abstractmethod
    async def try_acquire(self, rates: Sequence[Rate]) -> float:
        """0.0 when a slot was taken under every rate; else seconds until one may be free."""

    @abstractmethod
    async def pause(self, key: str, seconds: float) -> None:
        """Refuse every rate with this ``key`` for ``seconds`` (a 429's ``retry_after``)."""

    @abstractmethod
    async def paused_for(self, rates: Sequence[Rate]) -> float:
        """Seconds left of a pause on any of these rates (0.0 when none)."""

    async def acquire(self, rates: Sequence[Rate], *, max_wait: float) -> float:
        """Wait for a slot up to ``max_wait`` s: 0.0 when taken, else the wait still needed."""
        if not rates:
            return 0.0
        waited = 0.0
        while True:
            wait = await self.try_acquire(rates)
            if wait <= 0:
                return 0.0
            if waited + wait > max_wait:
                return wait
            wait = max(wait, 0.001)  # clocks tick in microseconds: always make progress
            await self.sleep(wait)
            waited += wait


class MemoryLimiter(_LimiterBase):
    """The limiter for one process (``duban run`` without Redis)."""

    def __init__(self, clock: Clock | None = None, sleep: Sleep | None = None) -> None:
        super().__init__(clock, sleep)
        self._tat: dict[str, float] = {}
        self._pause: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def try_acquire(self, rates: Sequence[Rate]) -> float:
        """0.0 when a slot was taken under every rate; else seconds until one may be free."""
        async with self._lock:
            now = self._now()
            wait = max((self._pause.get(r.key, 0.0) - now for r in rates), default=0.0)
            if wait > 0:
                return wait
            news: list[float] = []
            for rate in rates:
                tat = max(self._tat.get(rate.key, 0.0), now)
                wait = max(wait, tat - now - rate.tolerance)
                news.append(tat + rate.interval)
            if wait > 0:
                return wait
            for rate, new in zip(rates, news, strict=True):
                self._tat[rate.key] = new
            return 0.0

    async def paused_for(self, rates: Sequence[Rate]) -> float:
        """Seconds left of a pause on any of these rates (0.0 when none)."""
        now = self._now()
        return max([0.0, *(self._pause.get(r.key, 0.0) - now for r in rates)])

    async def pause(self, key: str, seconds: float) -> None:
        """Refuse every rate with this ``key`` for ``seconds``."""
        async with self._lock:
            until = self._now() + seconds
            self._pause[key] = max(self._pause.get(key, 0.0), until)


# KEYS: n pause keys, then n TAT keys. ARGV: now, n, then interval and tolerance per rate.
# Checks every pause and every rate first and only then takes the slots, so a refusal
# under one rate never uses up a slot under another.
_ACQUIRE = """
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local wait = 0
for i = 1, n do
  local p = tonumber(redis.call('GET', KEYS[i]) or '0')
  if p - now > wait then wait = p - now end
end
if wait > 0 then return tostring(wait) end
local news = {}
for i = 1, n do
  local interval = tonumber(ARGV[1 + 2 * i])
  local tolerance = tonumber(ARGV[2 + 2 * i])
  local tat = tonumber(redis.call('GET', KEYS[n + i]) or '0')
  if tat < now then tat = now end
  local w = tat - now - tolerance
  if w > wait then wait = w end
  news[i] = tat + interval
end
if wait > 0 then return tostring(wait) end
for i = 1, n do
  local ttl = math.ceil((news[i] - now) * 1000) + 1000
  redis.call('SET', KEYS[n + i], string.format('%.6f', news[i]), 'PX', ttl)
end
return '0'
"""

# KEYS: the pause key. ARGV: until (epoch seconds), ttl ms. Only ever extends a pause.
_PAUSE = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local untl = tonumber(ARGV[1])
if untl > cur then
  redis.call('SET', KEYS[1], string.format('%.6f', untl), 'PX', tonumber(ARGV[2]))
end
return 1
"""


class RedisLimiter(_LimiterBase):
    """The limiter shared by every worker through Redis (atomic Lua scripts)."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "duban:rl:",
        clock: Clock | None = None,
        sleep: Sleep | None = None,
    ) -> None:
        super().__init__(clock, sleep)
        self.redis = redis
        self.prefix = prefix
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)

    async def try_acquire(self, rates: Sequence[Rate]) -> float:
        """0.0 when a slot was taken under every rate; else seconds until one may be free."""
        if not rates:
            return 0.0
        keys = [f"{self.prefix}pause:{r.key}" for r in rates]
        keys += [f"{self.prefix}tat:{r.key}" for r in rates]
        args: list[str | float | int] = [f"{self._now():.6f}", len(rates)]
        for rate in rates:
            args += [f"{rate.interval:.6f}", f"{rate.tolerance:.6f}"]
        result = await self._acquire(keys=keys, args=args)
        return float(result.decode() if isinstance(result, bytes) else result)

    async def paused_for(self, rates: Sequence[Rate]) -> float:
        """Seconds left of a pause on any of these rates, set by any worker (0.0 when none)."""
        if not rates:
            return 0.0
        values = await self.redis.mget([f"{self.prefix}pause:{r.key}" for r in rates])
        now = self._now()
        return max([0.0, *(float(v) - now for v in values if v is not None)])

    async def pause(self, key: str, seconds: float) -> None:
        """Refuse every rate with this ``key`` for ``seconds``, in every worker."""
        until = self._now() + seconds
        ttl = int(seconds * 1000) + 60_000
        await self._pause(keys=[f"{self.prefix}pause:{key}"], args=[f"{until:.6f}", ttl])
