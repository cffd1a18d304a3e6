"""The runtime every command and process shares: settings, engine, sessions, clock."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from duban.settings import Settings
from models.db import create_engine, create_sessionmaker
from supervision.clock import Clock, SystemClock


@dataclass
class Runtime:
    """What a command needs to talk to the database."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)


@asynccontextmanager
async def open_runtime(settings: Settings, clock: Clock | None = None) -> AsyncIterator[Runtime]:
    """Open the database for the length of a command, and close it after."""
    engine = create_engine(settings.database.url)
    try:
        yield Runtime(settings, engine, create_sessionmaker(engine), clock or SystemClock())
    finally:
        await engine.dispose()


def stop_event() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
