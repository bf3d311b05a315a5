"""Shared fixtures: an in-memory SQLite store, a PostgreSQL one when CI provides it,
a controllable clock, and helpers to make people and teams."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from domain.roles import Role
from domain.settings import Settings
from domain.types import Actor, Command, Platform
from handlers.core.context import Clock, HandlerContext, system_clock
from handlers.registry import build_registry
from storage import people
from storage.catalogue import ensure_reference_data
from storage.db import Database, normalize_url
from storage.models import Person, Team

PG_URL = os.environ.get("LEADBOT_TEST_POSTGRES_URL", "")


class FakeClock:
    """A clock the test moves by hand; always aware, in UTC."""

    def __init__(self, start: dt.datetime) -> None:
        assert start.tzinfo is not None
        self.now = start.astimezone(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, when: dt.datetime) -> None:
        assert when.tzinfo is not None
        self.now = when.astimezone(dt.UTC)

    def advance(self, **kwargs: float) -> None:
        self.now += dt.timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    # A Tuesday morning in November, in UTC.
    return FakeClock(dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC))


class OverlappingTransactions(AssertionError):
    """Two transactions at once on the in-memory store (see _forbid_overlap)."""


def _forbid_overlap(db: Database) -> Database:
    """The in-memory store has ONE connection (StaticPool): two transactions open at once
    interleave on it (one's COMMIT commits the other's half-done work), so a test that
    depends on them proves nothing. Fail such a test loudly; it wants `concurrent_db`."""
    open_now = 0
    session = db.session

    @asynccontextmanager
    async def one_at_a_time() -> AsyncIterator[AsyncSession]:
        nonlocal open_now
        if open_now:
            raise OverlappingTransactions(
                "two transactions at once on the in-memory SQLite store: use the "
                "`concurrent_db` fixture (a file store) for concurrent sessions"
            )
        open_now += 1
        try:
            async with session() as s:
                yield s
        finally:
            open_now -= 1

    db.session = one_at_a_time  # type: ignore[method-assign]
    return db


async def _ready(database: Database) -> Database:
    await database.create_all()
    await ensure_reference_data(database)
    return database


async def _sqlite_db() -> Database:
    return _forbid_overlap(await _ready(Database("sqlite+aiosqlite://")))


async def _make_pg_database() -> tuple[str, str]:
    """A fresh, empty PostgreSQL database for one test; returns (url, name)."""
    name = "leadbot_test_" + uuid.uuid4().hex[:12]
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = PG_URL.rpartition("/")
    return f"{base}/{name}", name


async def _drop_pg_database(name: str) -> None:
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def require_postgres() -> None:
    """Tests marked postgres need CI's server; in CI a missing one is a failure."""
    if not PG_URL:
        if os.environ.get("CI"):
            pytest.fail("LEADBOT_TEST_POSTGRES_URL is not set in CI (.ci/run starts PostgreSQL)")
        pytest.skip("PostgreSQL not configured: set LEADBOT_TEST_POSTGRES_URL (CI does)")


@asynccontextmanager
async def fresh_store(kind: str, *, file_dir: Path | None = None) -> AsyncIterator[Database]:
    """A fresh store with the schema and reference data: `sqlite` (in memory, or in a file
    under `file_dir`) or `postgres` (a new database, dropped afterwards)."""
    name = None
    if kind == "postgres":
        require_postgres()
        url, name = await _make_pg_database()
        database = await _ready(Database(url))
    elif file_dir is not None:
        database = await _ready(Database(f"sqlite+aiosqlite:///{file_dir / 'leadbot.db'}"))
    else:
        database = await _sqlite_db()
    try:
        yield database
    finally:
        await database.dispose()
        if name is not None:
            await _drop_pg_database(name)


@pytest.fixture
async def db() -> AsyncIterator[Database]:
    """An empty in-memory SQLite store with the reference data."""
    async with fresh_store("sqlite") as database:
        yield database


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """The URL of a fresh, empty PostgreSQL database (schema not created)."""
    require_postgres()
    url, name = await _make_pg_database()
    yield normalize_url(url)
    await _drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_db(request: pytest.FixtureRequest) -> AsyncIterator[Database]:
    """The same test on SQLite and on PostgreSQL (storage tests use this)."""
    async with fresh_store(request.param) as database:
        yield database


@pytest.fixture
async def sqlite_file_db(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    """A SQLite store in a temporary file (one connection per session, as in production):
    for tests whose sessions overlap, e.g. a running server and the test itself."""
    async with fresh_store("sqlite", file_dir=tmp_path_factory.mktemp("sqlite")) as database:
        yield database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def concurrent_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """Like any_db, for tests that run transactions concurrently (asyncio.gather): SQLite
    in a temporary file, one connection per session as in production. The in-memory
    store shares ONE connection (StaticPool) between sessions, so concurrent
    transactions there interleave on it and such a test proves nothing."""
    async with fresh_store(
        request.param, file_dir=tmp_path_factory.mktemp("concurrent")
    ) as database:
        yield database


TEST_SECRET = "test-secret"


def make_settings(**values: Any) -> Settings:
    """Settings for a test: no `.env`, a test secret, then the given values."""
    values.setdefault("leadbot_secret", TEST_SECRET)
    return Settings(_env_file=None, **values)


def make_ctx(db: Database, clock: Clock = system_clock, **settings: Any) -> HandlerContext:
    """A handlers' context as the bootstrap builds it, over a test store and clock."""
    return HandlerContext(
        db=db, settings=make_settings(**settings), registry=build_registry(), clock=clock
    )


@pytest.fixture
def ctx(db: Database, clock: FakeClock) -> HandlerContext:
    return make_ctx(db, clock)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- builders --------------------------------------------------------------------------


async def make_team(db: Database, name: str = "Billing", tz: str = "Europe/London") -> Team:
    return await people.create_team(db, name=name, timezone=tz)


async def make_person(
    db: Database,
    handle: str,
    *,
    role: Role = Role.agent,
    team: Team | None = None,
    tz: str = "Europe/London",
    work_hours: str = "Mon-Fri 09:00-17:00",
) -> Person:
    name = " ".join(part.capitalize() for part in handle.split("."))
    return await people.upsert_person(
        db,
        email=f"{handle}@example.com",
        display_name=name,
        role=role,
        team_id=team.id if team else None,
        timezone=tz,
        work_hours=work_hours,
    )


def actor_of(p: Person) -> Actor:
    assert p.id is not None
    return Actor(
        person_id=p.id,
        email=p.email,
        name=p.display_name,
        role=p.role,
        team_id=p.team_id,
        timezone=p.timezone,
    )


async def command(
    db: Database, actor: Person, line: str, *, platform: Platform = Platform.console
) -> Command:
    """A Command as the console adapter builds it from a line such as `/stats aht week`."""
    from bot.console import parse_line

    return await parse_line(db, actor_of(actor), line, platform=platform)


def unchecked_settings(**values: Any) -> Settings:
    """Settings that skip validation, for tests of what holds even when a setting is off
    its allowed range (defence in depth); production settings are always validated."""
    return Settings.model_construct(**{**dict(make_settings()), **values})
