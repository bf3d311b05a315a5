"""Pulse at scale: opening a round for a big team, taps, and `/pulse results`.

Run by hand:

    .venv/bin/python benchmarks/pulse.py [--agents 1000] [--taps 300] [--runs 50]
        [--url sqlite+aiosqlite:////tmp/pulse-bench.db]

It builds one team of `--agents` agents (UTC, always-on shifts so every DM goes out at
once) and times: `/pulse now` through the dispatcher (the round, one delivery and one
outbox DM per agent, in one transaction), `--taps` answers through the action
dispatcher (p50/p99), then `/pulse results` over 12 closed rounds (p50/p99).
`--url` may point at PostgreSQL: use a scratch database, the benchmark creates its tables
there and leaves its rows behind.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bot.bootstrap import bootstrap
from bot.console import parse_line
from domain.roles import Role
from domain.settings import Settings
from domain.types import Action, Actor
from handlers.core.dispatch import run_action, run_command
from storage import people
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.models import Person


def _actor(p: Person) -> Actor:
    assert p.id is not None
    return Actor(p.id, p.email, p.display_name, p.role, p.team_id, p.timezone)


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


async def main(agents: int, taps: int, runs: int, url: str) -> None:
    db = Database(url)
    await db.create_all()
    await ensure_reference_data(db)
    now = [dt.datetime(2030, 11, 19, 10, 0, tzinfo=dt.UTC)]
    ctx = bootstrap(
        Settings(_env_file=None, leadbot_secret="bench"), db=db, clock=lambda: now[0]
    ).ctx
    team = await people.create_team(db, name="Big", timezone="UTC")
    lead = await people.upsert_person(
        db, email="lead@bench.example", display_name="Lead", role=Role.lead, team_id=team.id
    )
    async with db.session() as s:
        for i in range(agents):
            s.add(
                Person(
                    email=f"a{i}@bench.example",
                    display_name=f"Agent {i}",
                    role=Role.agent,
                    team_id=team.id,
                    work_hours="Mon-Sun 00:00-23:59",
                )
            )
    members = [p for p in await people.list_people(db, team_id=team.id) if p.role is Role.agent]

    async def open_round() -> tuple[float, int]:
        cmd = await parse_line(db, _actor(lead), "/pulse now")
        t = time.perf_counter()
        reply = await run_command(cmd, ctx)
        assert reply.ok, reply.text
        async with db.engine.connect() as conn:
            rid = (await conn.execute(sa.text("SELECT max(id) FROM pulseround"))).scalar()
        return time.perf_counter() - t, int(rid or 0)

    open_s, rid = await open_round()
    print(f"/pulse now, {agents} agents: {open_s * 1000:.0f} ms")
    lat = []
    for p in members[:taps]:
        t = time.perf_counter()
        await run_action(
            Action(_actor(p), "pulse.answer", f"{rid}:esat:{1 + (p.id or 0) % 5}"), ctx
        )
        lat.append(time.perf_counter() - t)
    print(f"tap: p50 {_pct(lat, 0.5):.1f} ms, p99 {_pct(lat, 0.99):.1f} ms ({len(lat)} taps)")
    for _ in range(11):
        async with db.session() as s:
            await s.execute(sa.text("UPDATE pulseround SET status = 'closed'"))
        now[0] += dt.timedelta(days=7)
        _s, rid = await open_round()
        for p in members[: max(5, taps // 10)]:
            await run_action(Action(_actor(p), "pulse.answer", f"{rid}:esat:4"), ctx)
    async with db.session() as s:
        await s.execute(sa.text("UPDATE pulseround SET status = 'closed'"))
    lat = []
    cmd = await parse_line(db, _actor(lead), "/pulse results")
    for _ in range(runs):
        t = time.perf_counter()
        await run_command(cmd, ctx)
        lat.append(time.perf_counter() - t)
    print(
        f"/pulse results (12 rounds): p50 {_pct(lat, 0.5):.1f} ms, p99 {_pct(lat, 0.99):.1f} ms, "
        f"mean {statistics.mean(lat) * 1000:.1f} ms"
    )
    await db.dispose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=1000)
    ap.add_argument("--taps", type=int, default=300)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--url", default="sqlite+aiosqlite:////tmp/pulse-bench.db")
    a = ap.parse_args()
    if a.url.startswith("sqlite") and "////" in a.url:
        path = "/" + a.url.split("////", 1)[-1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    asyncio.run(main(a.agents, a.taps, a.runs, a.url))
