"""The async database: engine, sessions and schema set-up. Only storage/ uses sessions."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
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


# session.info key: the Database's unmapped_platform, for storage.outbox's routing.
UNMAPPED_PLATFORM = "leadbot.unmapped_platform"


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
    """One engine and its session factory.

    - Errors and logs never show bound parameters (`hide_parameters`): they can hold
      user text, such as a pulse comment.
    - NUL characters are removed from every text parameter before it reaches the driver
      (`_strip_nul`): PostgreSQL rejects them in text, SQLite would store them, so both
      stores keep the same text.
    - The database going away is logged once (a warning) and its return once (info), not
      once per failed session; each failed session raises DatabaseUnavailable.
    """

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
        event.listen(self.engine.sync_engine, "before_cursor_execute", _strip_nul, retval=True)
        self._down_since: float | None = None
        # Where a message to a person with no Slack/Teams id yet is queued: "console" in
        # the console, the demo and tests; the production platform (its sender finds the
        # person by email at send time) when bot.bootstrap sees Slack or Teams configured.
        self.unmapped_platform = "console"
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
                session.info[UNMAPPED_PLATFORM] = self.unmapped_platform
                yield session
        except (OperationalError, DBAPIError, OSError) as exc:
            if is_connection_error(exc):
                self._note_down(exc)
                raise DatabaseUnavailable(str(type(exc).__name__)) from exc
            raise
        if self._down_since is not None:
            log.info("database reachable again after %.1fs", time.monotonic() - self._down_since)
            self._down_since = None
        marks = _committed_writes.get()
        if marks is not None and session.info.get(_WROTE):
            marks.append(1)

    @property
    def available(self) -> bool:
        """False from a session failing for want of the database until one succeeds."""
        return self._down_since is None

    def _note_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning("database unavailable: %s", describe_error(exc))
        else:
            log.debug("database still unavailable: %s", describe_error(exc))

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


# SQLSTATEs that mean "the server is not there (now)": class 08 (connection exceptions),
# 57P01 admin shutdown ("terminating connection due to administrator command"), 57P02
# crash shutdown, 57P03 cannot connect now ("the database system is shutting down" /
# "... is starting up"), 53300 too many connections.
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_UNAVAILABLE_TEXT = (
    "connection",
    "could not connect",
    "server closed",
    "terminating",
    "refused",
    "shutting down",
    "starting up",
    "in recovery mode",
)


def _sqlstate(exc: BaseException) -> str | None:
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen) or len(seen) > 8:
            continue
        seen.append(e)
        code = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(code, str) and code:
            return code
        todo.extend([getattr(e, "orig", None), e.__cause__])
    return None


def is_connection_error(exc: BaseException) -> bool:
    """True when `exc` means the database cannot be reached (down, restarting, shutting
    down, network gone), as opposed to an error in what was asked of it."""
    if isinstance(exc, DatabaseUnavailable | OSError | ConnectionError):
        return True
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    code = _sqlstate(exc)
    if code is not None:
        return code.startswith("08") or code in _UNAVAILABLE_STATES
    if not (isinstance(exc, OperationalError | InterfaceError) or type(exc) is DBAPIError):
        return False  # e.g. an IntegrityError is about the data, whatever its text says
    text = str(exc.orig if exc.orig is not None else exc).lower()
    return any(n in text for n in _UNAVAILABLE_TEXT)


_is_connection_error = is_connection_error  # (the older private name)


def describe_error(exc: BaseException) -> str:
    """The error's kind and first line, without parameters (hide_parameters) or SQL."""
    if isinstance(exc, DatabaseUnavailable) and exc.__cause__ is not None:
        exc = exc.__cause__
    orig = getattr(exc, "orig", None)
    inner = orig if isinstance(orig, BaseException) else exc
    first = (str(inner).strip().splitlines() or [""])[0][:200]
    return f"{type(inner).__name__}: {first}" if first else type(inner).__name__


def _strip_nul(
    _conn: Any,
    _cursor: Any,
    statement: str,
    parameters: Any,
    _context: Any,
    executemany: bool,
) -> tuple[str, Any]:
    """Remove NUL from text parameters (before_cursor_execute, retval=True)."""
    if executemany and isinstance(parameters, list | tuple):
        if any(_has_nul(p) for p in parameters):
            parameters = type(parameters)(_without_nul(p) for p in parameters)
    elif _has_nul(parameters):
        parameters = _without_nul(parameters)
    return statement, parameters


def _has_nul(params: Any) -> bool:
    values = params.values() if isinstance(params, dict) else params
    if not isinstance(values, list | tuple) and not isinstance(params, dict):
        return False
    return any(isinstance(v, str) and "\x00" in v for v in values)


def _without_nul(params: Any) -> Any:
    def clean(v: Any) -> Any:
        return v.replace("\x00", "") if isinstance(v, str) else v

    if isinstance(params, dict):
        return {k: clean(v) for k, v in params.items()}
    return type(params)(clean(v) for v in params)
