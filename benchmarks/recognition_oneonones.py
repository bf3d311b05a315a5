"""Kudos and 1:1s at center scale.

Run by hand:

    .venv/bin/python benchmarks/recognition_oneonones.py [--agents 500] [--runs 200]

It builds a center in a SQLite file (teams of 20 agents, one lead each), 60 days of CSAT
and AHT per agent, a CSAT goal per team, 8 weeks of kudos, and a fortnightly 1:1 for
every agent (spread over the week), then times:
- `/kudos @agent #value ...`, `/kudos top month`, `/1on1 list` and `/1on1 prep @agent`
  (as a lead) through the dispatcher: p50/p95/p99 in milliseconds;
- the 1:1 sweep at the moment every lead's and agent's day-before reminder is due (the
  busiest run: a prep card per lead reminder), and the steady-state sweep after it;
- the suggestions job and the weekly digest over every team.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.bootstrap import bootstrap
from bot.console import parse_line
from domain.kpi import KpiRow
from domain.roles import Role
from domain.settings import Settings
from domain.types import Actor
from handlers.core.context import HandlerContext
from handlers.core.dispatch import run_command
from jobs import kudos_jobs, oneonone_jobs
from jobs.spec import JobRunInfo
from storage import kudos as kudos_store
from storage import oneonones, people
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.kpis import upsert_values
from storage.models import Goal, Person

UTC = dt.UTC
NOW = dt.datetime(2026, 11, 16, 8, 0, tzinfo=UTC)  # a Monday morning


def actor(p: Person) -> Actor:
    assert p.id is not None
    return Actor(p.id, p.email, p.display_name, p.role, p.team_id, p.timezone)


async def build(db: Database, agents: int) -> tuple[list[Person], list[Person]]:
    rng = random.Random(7)
    leads: list[Person] = []
    everyone: list[Person] = []
    for t in range(max(1, agents // 20)):
        team = await people.create_team(db, name=f"Team {t}", timezone="Europe/London")
        assert team.id is not None
        lead = await people.upsert_person(
            db,
            email=f"lead{t}@example.com",
            display_name=f"Lead {t}",
            role=Role.lead,
            team_id=team.id,
            timezone="Europe/London",
        )
        leads.append(lead)
        async with db.session() as s:
            s.add(Goal(team_id=team.id, metric_key="csat", op=">=", target=85.0))
        crew = []
        for a in range(20):
            crew.append(
                await people.upsert_person(
                    db,
                    email=f"agent{t}_{a}@example.com",
                    display_name=f"Agent {t} {a}",
                    role=Role.agent,
                    team_id=team.id,
                    timezone=rng.choice(["Europe/London", "America/Chicago"]),
                )
            )
        everyone.extend(crew)
        rows = []
        for p in crew:
            for d in range(60):
                day = NOW.date() - dt.timedelta(days=d + 1)
                if day.weekday() < 5:
                    rows.append(
                        KpiRow(day, "csat", rng.uniform(75, 98), p.id, team.id, rng.uniform(5, 30))
                    )
                    rows.append(
                        KpiRow(day, "aht", rng.uniform(240, 420), p.id, team.id, rng.uniform(5, 30))
                    )
        await upsert_values(db, rows=rows)
        for k in range(80):
            giver, receiver = rng.sample([lead, *crew], 2)
            await kudos_store.record(
                db,
                giver_id=giver.id or 0,
                receivers=[kudos_store.NewRecognition(receiver.id or 0, team.id)],
                message="thanks for the help",
                value_tag=rng.choice(["ownership", "action", None]),
                group_key=f"b{t}-{k}",
                at=NOW - dt.timedelta(hours=rng.uniform(1, 24 * 56)),
            )
        for i, p in enumerate(crew):
            # Tuesday 1:1s, so Monday morning is every day-before reminder at once.
            slot = dt.datetime(2026, 11, 17, 9 + i % 8, 0, tzinfo=UTC)
            await oneonones.schedule(
                db,
                lead_id=lead.id or 0,
                agent_id=p.id or 0,
                cadence_weeks=2,
                weekday=1,
                local_time=f"{9 + i % 8:02d}:00",
                duration_minutes=30,
                timezone="Europe/London",
                next_at=slot,
                at=NOW - dt.timedelta(days=1),
            )
    return leads, everyone


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


async def timed(ctx: HandlerContext, who: Person, lines: list[str]) -> list[float]:
    out = []
    for line in lines:
        t0 = time.perf_counter()
        cmd = await parse_line(ctx.db, actor(who), line)
        reply = await run_command(cmd, ctx)
        out.append((time.perf_counter() - t0) * 1000)
        assert reply.ok, (line, reply.text)
    return out


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite+aiosqlite:///{tmp}/bench.db")
        await db.create_all()
        await ensure_reference_data(db)
        t0 = time.perf_counter()
        leads, agents = await build(db, args.agents)
        print(f"built {len(leads)} teams, {len(agents)} agents in {time.perf_counter() - t0:.1f}s")
        now = [NOW]
        ctx = bootstrap(
            Settings(_env_file=None, leadbot_secret="b"), db=db, clock=lambda: now[0]
        ).ctx
        lead = leads[0]
        crew = [a for a in agents if a.team_id == lead.team_id]
        handle = crew[0].email.split("@")[0]
        n = args.runs
        results = {
            "/kudos @agent #ownership ...": await timed(
                ctx,
                lead,
                [
                    f"/kudos @{crew[i % len(crew)].email.split('@')[0]} #ownership great call {i}"
                    for i in range(n)
                ],
            ),
            "/kudos top month": await timed(ctx, lead, ["/kudos top month"] * n),
            "/1on1 list": await timed(ctx, lead, ["/1on1 list"] * n),
            f"/1on1 prep @{handle}": await timed(ctx, lead, [f"/1on1 prep @{handle}"] * n),
        }
        print(f"{'command':34} {'p50':>7} {'p95':>7} {'p99':>7}  (ms, {n} runs each)")
        for name, xs in results.items():
            print(
                f"{name:34} {statistics.median(xs):7.1f} {pct(xs, 0.95):7.1f} {pct(xs, 0.99):7.1f}"
            )
        # Monday 17:00 UTC: every lead's and every agent's day-before reminder is due.
        now[0] = dt.datetime(2026, 11, 16, 17, 0, tzinfo=UTC)
        for label in ("busiest", "steady"):
            t0 = time.perf_counter()
            await oneonone_jobs.sweep(ctx, JobRunInfo("oneonone.sweep", now[0]))
            print(f"1:1 sweep ({label}, {len(agents)} 1:1s): {time.perf_counter() - t0:.2f}s")
        teams = await people.list_teams(db)
        t0 = time.perf_counter()
        for t in teams:
            await kudos_jobs.suggestions(ctx, JobRunInfo("kudos.suggestions", now[0], t.id))
        print(f"kudos suggestions, {len(teams)} teams: {time.perf_counter() - t0:.2f}s")
        t0 = time.perf_counter()
        for t in teams:
            await kudos_jobs.weekly_digest(ctx, JobRunInfo("kudos.weekly_digest", now[0], t.id))
        print(f"weekly digests, {len(teams)} teams: {time.perf_counter() - t0:.2f}s")
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
