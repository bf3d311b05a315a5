"""The async database: engine, sessions and schema set-up. Only storage/ uses sessions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers every table on the metadata)

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database could not be reached; the user is asked to try again in a moment."""


def normalize_url(url: str) -> str:
    """Accept the usual URL spellings and pick the async driver for each."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def _is_memory_sqlite(url: str) -> bool:
    return url.startswith("sqlite") and (url.endswith("://") or ":memory:" in url)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 10) -> None:
        self.url = normalize_url(url)
        kwargs: dict[str, Any] = {"echo": echo}
        if _is_memory_sqlite(self.url):
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        elif self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
            kwargs["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session in one transaction: committed on success, rolled back on error."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except (OperationalError, DBAPIError, OSError) as exc:
            if _is_connection_error(exc):
                log.warning("database unavailable: %s", type(exc).__name__)
                raise DatabaseUnavailable(str(type(exc).__name__)) from exc
            raise

    async def create_all(self) -> None:
        """Create every table straight from the models (tests; production uses migrations)."""
        async with self.engine.begin() as conn:
            await conn.run_sync(SQLModel.metadata.create_all)

    async def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            return True
        except Exception:
            return False

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    text = str(exc).lower()
    needles = ("connection", "could not connect", "server closed", "terminating", "refused")
    return isinstance(exc, OperationalError) and any(n in text for n in needles)
