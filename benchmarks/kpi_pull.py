"""A scheduled 15-minute connector pull for 500 agents and 40 queues, from the loopback
Genesys Cloud fake: wall time and CPU, and the floor of the same requests alone.

Run by hand:

    .venv/bin/python benchmarks/kpi_pull.py [--agents 500] [--queues 40] [--hours 6]

The fake holds `--hours` (the re-pull span, KPI_REPULL_HOURS) of 15-minute intervals for
every agent (tHandle, surveys) and queue (service level, answered, abandoned, offered),
with the roster seeded and the queues mapped. It times, on a SQLite file store:

- the first pull (the users and queues listed and matched, then the span);
- a steady-state pull 15 minutes later: the watermark is one interval old, so the pull
  reads the re-pull span again and replaces it, which is what every scheduled pull does;
- the floor: the same aggregate requests and the parsing of their rows, without storage.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.sources.common import Policy  # noqa: E402
from bot.sources.genesys import GenesysSource  # noqa: E402
from domain.roles import Role  # noqa: E402
from domain.sources import Window  # noqa: E402
from jobs import kpi_pull  # noqa: E402
from storage import intervals, people  # noqa: E402
from storage.catalogue import ensure_reference_data  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.bot.sources.fake_genesys import CLIENT_ID, CLIENT_SECRET, FakeGenesys  # noqa: E402
from tests.bot.sources.loopback import serve  # noqa: E402
from tests.conftest import FakeClock, make_ctx  # noqa: E402

NOW = dt.datetime(2026, 11, 17, 14, 0, tzinfo=dt.UTC)


def fill(g: FakeGenesys, agents: int, queues: int, hours: float) -> None:
    g.users = [
        {"id": f"u{a}", "name": f"Agent {a}", "email": f"agent{a}@bench.test"}
        for a in range(agents)
    ]
    g.queues = [{"id": f"q{q}", "name": f"Queue {q}"} for q in range(queues)]
    start = NOW - dt.timedelta(hours=hours + 1)
    t = start
    while t < NOW + dt.timedelta(minutes=15):
        k = int((t - start).total_seconds() // 900)
        for a in range(agents):
            g.stat(
                "conversations",
                "userId",
                f"u{a}",
                t,
                "tHandle",
                sum=300_000 * (1 + (a + k) % 3),
                count=1 + (a + k) % 3,
            )
            if (a + k) % 4 == 0:
                g.stat("surveys", "userId", f"u{a}", t, "oSurveyTotalScore", sum=80, count=1)
        for q in range(queues):
            g.stat(
                "conversations",
                "queueId",
                f"q{q}",
                t,
                "oServiceLevel",
                numerator=8,
                denominator=10,
                ratio=0.8,
                target=0.8,
            )
            g.stat("conversations", "queueId", f"q{q}", t, "tAnswered", sum=150_000, count=9)
            g.stat("conversations", "queueId", f"q{q}", t, "nOffered", count=10)
            g.stat("conversations", "queueId", f"q{q}", t, "tAbandon", count=1)
        t += dt.timedelta(minutes=15)


async def seed(db: Database, agents: int, queues: int) -> None:
    teams = []
    for q in range(queues):
        teams.append(await people.create_team(db, name=f"Team {q}", timezone="Europe/London"))
    for a in range(agents):
        await people.upsert_person(
            db,
            email=f"agent{a}@bench.test",
            display_name=f"Agent {a}",
            role=Role.agent,
            team_id=teams[a % queues].id,
            timezone="Europe/London",
            work_hours="Mon-Fri 09:00-17:00",
        )


async def timed(label: str, coro: object) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    result = await coro  # type: ignore[misc]
    print(
        f"{label:34} wall {time.perf_counter() - wall:6.2f} s   "
        f"cpu {time.process_time() - cpu:6.2f} s   {getattr(result, 'summary', lambda: '')()}"
    )


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--queues", type=int, default=40)
    ap.add_argument("--hours", type=float, default=6.0)
    args = ap.parse_args()
    g = FakeGenesys()
    fill(g, args.agents, args.queues, args.hours)
    async with serve(g):
        with tempfile.TemporaryDirectory() as tmp:
            db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'leadbot.db'}")
            await db.create_all()
            await ensure_reference_data(db)
            await seed(db, args.agents, args.queues)
            clock = FakeClock(NOW)
            ctx = make_ctx(db, clock)

            def source() -> GenesysSource:
                return GenesysSource(
                    client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET,
                    api_url=g.url,
                    login_url=g.url,
                    repull=dt.timedelta(hours=args.hours),
                    policy=Policy(rate_per_second=1000),
                )

            src = source()
            await timed("first pull (subjects + span)", kpi_pull.pull_intervals(ctx, src))
            for q in range(args.queues):
                team = await people.get_team_by_name(db, name=f"Team {q}")
                assert team is not None
                await intervals.map_subject(
                    db, source="genesys", kind="queue", external_id=f"q{q}", team_id=team.id
                )
            clock.advance(minutes=15)
            await timed("steady 15-minute pull", kpi_pull.pull_intervals(ctx, src))
            window = Window(NOW - dt.timedelta(hours=args.hours), NOW + dt.timedelta(minutes=15))

            async def requests_only() -> int:
                return len([r async for r in src.pull(window)])

            await timed("floor: requests and parsing only", requests_only())
            print(f"intervals stored: {await intervals.count_intervals(db):,}")
            await src.aclose()
            await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
