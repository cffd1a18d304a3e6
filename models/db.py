"""Engine and session factory for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry


def is_sqlite(url_or_engine: str | AsyncEngine) -> bool:
    """True for a SQLite URL or engine."""
    name = (
        url_or_engine.dialect.name
        if isinstance(url_or_engine, AsyncEngine)
        else url_or_engine.split(":", 1)[0]
    )
    return name.startswith("sqlite")


def one_writer(sessions: async_sessionmaker[AsyncSession]) -> bool:
    """True when the sessions' database lets one transaction write at a time (SQLite): a
    second concurrent writer would only wait, so callers run one lane, not several."""
    bind = sessions.kw.get("bind")
    return isinstance(bind, AsyncEngine) and is_sqlite(bind)


async def begin_writing(session: AsyncSession) -> None:
    """Open ``session``'s transaction as a writer now, so that savepoints nest inside it.

    SQLite's driver begins a transaction only before the first data change: a SAVEPOINT
    before any would itself be the outermost transaction, and releasing it would commit.
    Whoever rolls back work done in savepoints (a dry run) calls this first; on SQLite it
    takes the write lock at once (``BEGIN IMMEDIATE``), on PostgreSQL it does nothing.
    """
    bind = session.bind
    if isinstance(bind, AsyncEngine) and is_sqlite(bind):
        await session.execute(text("BEGIN IMMEDIATE"))


def failure_text(exc: BaseException) -> str:
    """Why a database (or connection) call failed, safe to log: the driver's own message,
    e.g. ``OperationalError: attempt to write a readonly database``, without the SQL and its
    parameters; for any other error only its type, whose message may carry a secret."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return f"{type(exc.orig).__name__}: {_first_line(exc.orig)}"
    if isinstance(exc, DBAPIError | OSError | ConnectionError | TimeoutError):
        return f"{type(exc).__name__}: {_first_line(exc)}".rstrip(": ")
    return type(exc).__name__


def lost_connection(exc: BaseException) -> bool:
    """True when ``exc`` says the database connection was lost (the server ended it, the
    network dropped): the same work on a new connection may well succeed."""
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        # asyncpg: the server ended the session (pg_terminate_backend, a restart) or the
        # connection closed under a statement
        return type(orig).__name__ in _LOST_CONNECTION or isinstance(orig, ConnectionError)
    return isinstance(exc, ConnectionError)


_LOST_CONNECTION = frozenset(
    {
        "AdminShutdownError",
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "CrashShutdownError",
        "InterfaceError",
    }
)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""


def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """Create an async engine with the pragmas and pool settings Duban relies on.

    ``hide_parameters``: SQL parameters (token hashes, password hashes, people's data) never
    reach a log line or an error message, even with echo or ``duban -v``.
    """
    if is_sqlite(url):
        engine = create_async_engine(url, echo=echo, hide_parameters=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=10,
        max_overflow=20,
        pool_pre_ping=True,
        # No JIT: compiling a plan took 1.6 s of a 1.9 s bulletin query at 100k items (its
        # estimated cost passes jit_above_cost), while Duban's queries run in milliseconds.
        connect_args={"server_settings": {"jit": "off"}},
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """A session factory. ``expire_on_commit=False``: objects stay readable after commit,
    which async code needs because a lazy refresh would do hidden I/O."""
    return async_sessionmaker(engine, expire_on_commit=False)
