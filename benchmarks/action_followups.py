"""Action items at center scale: the follow-up sweep and the `/action` commands.

Run by hand:

    .venv/bin/python benchmarks/action_followups.py [--agents 500] [--items-per-agent 4]
        [--runs 200] [--only sqlite|postgres]

It builds a center (teams of 20 agents, one lead each, a manager over all), gives every
agent `--items-per-agent` open items (due dates spread over -10..+10 days, half linked to
AHT) and 30 days of AHT figures, then times:
- the sweep on a Monday morning when every shift has started (the busiest run: every
  reminder, nudge, escalation and summary of the day is enqueued), and the steady-state
  sweep that follows (everything already sent: what runs every 5 minutes);
- `/action list team` (a lead) and `/action @agent ... due tomorrow` through the dispatcher,
  p50/p95/p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import time_machine

from bot.bootstrap import bootstrap
from bot.console import parse_line
from domain.kpi import KpiRow
from domain.roles import Role
from domain.settings import Settings
from domain.types import Actor
from handlers.core.dispatch import run_command
from jobs import action_followups
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.kpis import upsert_values
from storage.models import ActionItem, ActionItemEvent, Person, Team

PG_DEFAULT = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.UTC)  # a Monday, every shift started
CREATED = NOW - dt.timedelta(days=20)


async def build(db: Database, agents: int, per_agent: int) -> tuple[Person, Person]:
    await db.create_all()
    await ensure_reference_data(db)
    teams = max(1, agents // 20)
    async with db.session() as s:
        manager = Person(email="boss@example.com", display_name="Boss", role=Role.manager)
        s.add(manager)
        await s.flush()
        leads: list[Person] = []
        team_rows: list[Team] = []
        for t in range(teams):
            team = Team(name=f"Team {t}", name_key=f"team {t}", manager_id=manager.id)
            s.add(team)
            await s.flush()
            lead = Person(
                email=f"lead{t}@example.com",
                display_name=f"Lead {t}",
                role=Role.lead,
                team_id=team.id,
            )
            s.add(lead)
            await s.flush()
            team.lead_id = lead.id
            leads.append(lead)
            team_rows.append(team)
        manager.team_id = team_rows[0].id
        people: list[Person] = []
        for a in range(agents):
            team = team_rows[a % teams]
            p = Person(
                email=f"agent{a}@example.com",
                display_name=f"Agent {a}",
                role=Role.agent,
                team_id=team.id,
            )
            s.add(p)
            people.append(p)
        await s.flush()
        for n, p in enumerate(people):
            for k in range(per_agent):
                item = ActionItem(
                    title=f"item {k} of agent {n}",
                    owner_id=p.id,
                    assigned_by_id=leads[n % teams].id,
                    team_id=p.team_id,
                    due_date=NOW.date() + dt.timedelta(days=(n + 7 * k) % 21 - 10),
                    metric_key="aht" if k % 2 else None,
                    metric_op="<=" if k % 2 else None,
                    metric_target=300.0 if k % 2 else None,
                    created_at=CREATED,
                    updated_at=CREATED,
                )
                s.add(item)
                await s.flush()
                s.add(
                    ActionItemEvent(
                        item_id=item.id or 0, kind="created", detail="", created_at=CREATED
                    )
                )
    rows = [
        KpiRow(
            NOW.date() - dt.timedelta(days=d),
            "aht",
            280.0 + (p.id or 0) % 40,
            person_id=p.id,
            team_id=p.team_id,
        )
        for p in people
        for d in range(1, 31)
    ]
    await upsert_values(db, rows=rows)
    return leads[0], people[0]


def actor(p: Person) -> Actor:
    assert p.id is not None
    return Actor(p.id, p.email, p.display_name, p.role, p.team_id, p.timezone)


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def bench(url: str, label: str, args: argparse.Namespace) -> None:
    db = Database(url)
    lead, _agent = await build(db, args.agents, args.items_per_agent)
    ctx = bootstrap(Settings(_env_file=None, leadbot_secret="bench"), db=db, clock=lambda: NOW).ctx
    with time_machine.travel(NOW, tick=False):
        t0 = time.perf_counter()
        first = await action_followups.sweep(ctx)
        t1 = time.perf_counter()
        steady: list[float] = []
        for _ in range(5):
            s0 = time.perf_counter()
            again = await action_followups.sweep(ctx)
            steady.append(time.perf_counter() - s0)
            assert again == 0
        timings: dict[str, list[float]] = {"list team": [], "create": []}
        for i in range(args.runs):
            for name, who, line in (
                ("list team", lead, "/action list team"),
                ("create", lead, f"/action @agent0 bench item {i} due tomorrow"),
            ):
                c0 = time.perf_counter()
                cmd = await parse_line(db, actor(who), line)
                reply = await run_command(cmd, ctx)
                timings[name].append((time.perf_counter() - c0) * 1000)
                assert reply.ok, reply.fallback
    n_items = args.agents * args.items_per_agent
    print(f"{label}: {args.agents} agents, {n_items} open items")
    print(f"  busiest sweep: {first} follow-ups enqueued in {(t1 - t0) * 1000:.0f} ms")
    print(f"  steady sweep:  median {statistics.median(steady) * 1000:.0f} ms (nothing to send)")
    for name, xs in timings.items():
        print(
            f"  /action {name}: p50 {pct(xs, 0.5):.1f} ms, p95 {pct(xs, 0.95):.1f} ms, "
            f"p99 {pct(xs, 0.99):.1f} ms"
        )
    await db.dispose()


async def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--agents", type=int, default=500)
    p.add_argument("--items-per-agent", type=int, default=4)
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--only", choices=("sqlite", "postgres"))
    args = p.parse_args()
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            await bench(f"sqlite+aiosqlite:///{tmp}/bench.db", "SQLite", args)
    if args.only != "sqlite":
        base = os.environ.get("LEADBOT_BENCH_POSTGRES_URL", PG_DEFAULT)
        name = "leadbot_bench_" + uuid.uuid4().hex[:8]
        conn = await asyncpg.connect(base)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        try:
            await bench(base.rpartition("/")[0] + "/" + name, "PostgreSQL", args)
        finally:
            conn = await asyncpg.connect(base)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
