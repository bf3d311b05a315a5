"""`leadbot sources list|test|pull|backfill|map`, against the Genesys Cloud fake."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import bootstrap
from bot.cli import _parser
from bot.sources import cli
from bot.sources.genesys import GenesysSource
from domain.kpi import Aggregation as A
from storage import intervals
from storage.db import Database
from storage.migrate import upgrade
from tests.bot.sources.fake_genesys import FakeGenesys
from tests.bot.sources.helpers import center, team_figure
from tests.bot.sources.loopback import serve
from tests.bot.sources.test_genesys import morning, source
from tests.conftest import FakeClock, make_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeGenesys]:
    g = FakeGenesys()
    g.users = [
        {"id": "u-ann", "name": "Ann", "email": "ann.agent@example.com"},
        {"id": "u-zed", "name": "Zed", "email": "zed@elsewhere.test"},
    ]
    g.queues = [{"id": "q-bill", "name": "Billing Voice"}]
    morning(g)
    async with serve(g):
        yield g


async def run(db: Database, clock: FakeClock, src: GenesysSource | None, *words: str) -> int:
    args = _parser().parse_args(["sources", *words])
    settings = make_settings(database_url=db.url)
    app = bootstrap(settings, db=db, clock=clock, sources={"genesys": src} if src else {})
    return await cli.main(app, args)


@pytest.fixture
async def migrated(tmp_path: Path) -> AsyncIterator[Database]:
    """A file store made by the migrations, as `leadbot` makes it."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'leadbot.db'}")
    await upgrade(db)
    yield db
    await db.dispose()


async def test_the_sources_commands(
    migrated: Database,
    fake: FakeGenesys,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = migrated
    c = await center(db)
    assert await run(db, clock, source(fake), "list") == 0
    out = capsys.readouterr().out
    assert "genesys  Genesys Cloud: on" in out
    assert "connect  Amazon Connect: not set up (set CONNECT_INSTANCE_ID)" in out

    assert await run(db, clock, source(fake), "test", "genesys") == 0
    assert "ok: 2 users and 1 queues" in capsys.readouterr().out
    assert await run(db, clock, None, "test", "genesys") == 2
    assert "set GENESYS_CLIENT_ID" in capsys.readouterr().out

    assert await run(db, clock, source(fake), "pull", "genesys") == 0
    assert "KPI pull (genesys):" in capsys.readouterr().out
    assert await run(db, clock, source(fake), "map", "genesys") == 0
    out = capsys.readouterr().out
    assert "Billing Voice (q-bill): UNMAPPED" in out
    assert "Zed (u-zed): UNMAPPED (no one on the roster has zed@elsewhere.test)" in out

    assert await run(db, clock, source(fake), "map", "genesys", "Billing Voice", "Billing") == 0
    assert "-> Billing" in capsys.readouterr().out
    assert await team_figure(db, c.team, "service_level", A.ratio) == pytest.approx(65)
    assert await run(db, clock, source(fake), "map", "genesys", "nowhere", "Billing") == 2
    assert await run(db, clock, source(fake), "map", "genesys", "q-bill", "--unmap") == 0
    capsys.readouterr()
    assert await team_figure(db, c.team, "service_level", A.ratio) is None  # its days went

    before = await intervals.count_intervals(db)
    args = ("backfill", "genesys", "--since", "2026-11-10", "--until", "2026-11-17")
    assert await run(db, clock, source(fake), *args) == 0
    assert "window(s)" in capsys.readouterr().out
    assert await intervals.count_intervals(db) == before  # the same data again: replaced
