"""The async database: engine, sessions and schema set-up. Only storage/ uses sessions."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
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
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.pool import StaticPool
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers every table on the metadata)

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The database could not be reached; the user is asked to try again in a moment."""


# Writes committed by the current task (and the tasks it starts), while `track_writes` is
# active: a command whose database goes away *after* it committed must not be told
# "nothing was changed" (handlers.dispatch).
_WROTE = "leadbot.wrote"
_committed_writes: ContextVar[list[int] | None] = ContextVar("leadbot_writes", default=None)


@contextmanager
def track_writes() -> Iterator[list[int]]:
    """Within the block, the returned list grows by one per committed transaction that
    wrote something (INSERT, UPDATE, DELETE or an ORM flush)."""
    marks: list[int] = []
    token = _committed_writes.set(marks)
    try:
        yield marks
    finally:
        _committed_writes.reset(token)


class _TrackingSession(Session):
    """A Session that notes whether it wrote anything (see track_writes)."""


def _noted_flush(session: Session, _flush_context: Any) -> None:
    session.info[_WROTE] = True


def _noted_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


event.listen(_TrackingSession, "after_flush", _noted_flush)
event.listen(_TrackingSession, "do_orm_execute", _noted_execute)


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
        # hide_parameters: an error's text (logged, stored in jobrun.error) never carries
        # the values bound to its statement (a pulse comment, a respondent hash, a person).
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        if _is_memory_sqlite(self.url):
            kwargs["poolclass"] = StaticPool
            kwargs["connect_args"] = {"check_same_thread": False}
        elif self.url.startswith("sqlite"):
            kwargs["connect_args"] = {"timeout": 30}
        else:
            kwargs["pool_size"] = pool_size
            kwargs["max_overflow"] = pool_size
            kwargs["pool_pre_ping"] = True
            # A network that drops packets without a reset must not hang a command forever.
            kwargs["connect_args"] = {"command_timeout": 30, "timeout": 10}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.url.startswith("sqlite"):
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        self._sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=_TrackingSession
        )

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
        marks = _committed_writes.get()
        if marks is not None and session.info.get(_WROTE):
            marks.append(1)

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
