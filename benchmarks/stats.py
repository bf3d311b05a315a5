"""/stats on a full-size center: 500 agents x 365 days x 10 metrics (about 1.85M rows).

Run by hand:

    .venv/bin/python benchmarks/stats.py [--runs 200] [--agents 500] [--days 365]
        [--team-size 20] [--only sqlite|postgres]

It bulk-loads the data set (SQLite: executemany on a temporary file; PostgreSQL: COPY
into a fresh database on LEADBOT_BENCH_POSTGRES_URL, default the local server), then
times whole commands through the dispatcher (parsing, role checks, queries, rendering
to a Reply): `/stats` and `/stats aht week` as a lead, `/stats me` as an agent, plus
`/stats month` and `/goal list`. Each runs `--runs` times; p50/p95/p99 in milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from bot.bootstrap import bootstrap
from bot.console import parse_line
from domain.settings import Settings
from domain.types import Actor
from handlers.core.dispatch import run_command
from storage import goals
from storage.catalogue import ensure_reference_data
from storage.db import Database
from storage.models import Person

PG_DEFAULT = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
METRICS = (
    "csat",
    "nps",
    "fcr",
    "aht",
    "service_level",
    "asa",
    "abandon_rate",
    "occupancy",
    "adherence",
    "qa_score",
)
QUEUE = ("service_level", "asa", "abandon_rate")
END = dt.date(2026, 11, 16)  # the last day with figures; "now" is the next morning
NOW = dt.datetime(2026, 11, 17, 9, 30, tzinfo=dt.UTC)
COMMANDS = (
    ("lead", "/stats"),
    ("lead", "/stats aht week"),
    ("agent", "/stats me"),
    ("lead", "/stats month"),
    ("lead", "/goal list"),
)


def value_rows(
    agents: list[tuple[int, int]], teams: list[int], days: int, seed: int = 7
) -> list[tuple[Any, ...]]:
    """(metric_key, person_id, team_id, day, value, weight, numerator, denominator)."""
    rng = random.Random(seed)
    rows: list[tuple[Any, ...]] = []
    first = END - dt.timedelta(days=days - 1)
    for d in range(days):
        day = first + dt.timedelta(days=d)
        for pid, tid in agents:
            n = rng.randint(20, 45)
            sat = rng.randint(int(n * 0.15), n // 4 + 1)
            prom = rng.randint(0, n // 6 + 1)
            rows += [
                ("aht", pid, tid, day, rng.gauss(300, 30), n, None, None),
                ("csat", pid, tid, day, 0.0, n // 4 + 1, sat, n // 4 + 1),
                ("nps", pid, tid, day, 0.0, n // 6 + 2, prom - 1, n // 6 + 2),
                ("fcr", pid, tid, day, rng.uniform(65, 85), n, None, None),
                ("service_level", pid, tid, day, rng.uniform(70, 95), n, None, None),
                ("asa", pid, tid, day, rng.uniform(10, 40), n, None, None),
                ("abandon_rate", pid, tid, day, rng.uniform(1, 8), n, None, None),
                ("occupancy", pid, tid, day, rng.uniform(70, 90), 480, None, None),
                ("adherence", pid, tid, day, rng.uniform(85, 98), 480, None, None),
                ("qa_score", pid, tid, day, rng.uniform(75, 98), 1, None, None),
            ]
        for tid in teams:
            rows += [
                ("service_level", None, tid, day, rng.uniform(70, 95), 900, None, None),
                ("asa", None, tid, day, rng.uniform(10, 40), 900, None, None),
                ("abandon_rate", None, tid, day, rng.uniform(1, 8), 950, None, None),
            ]
    # csat/nps rows carry counts; give them a consistent value too.
    return [
        (k, p, t, d, (100.0 * num / den) if num is not None and den else v, w, num, den)
        for (k, p, t, d, v, w, num, den) in rows
    ]


def people_rows(agents: int, team_size: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(teams, people): ids are assigned here so values can refer to them."""
    n_teams = (agents + team_size - 1) // team_size
    teams = [
        (i + 1, f"Team {i + 1}", f"team {i + 1}", "Europe/London", i * (team_size + 1) + 1)
        for i in range(n_teams)
    ]
    ppl: list[tuple[Any, ...]] = []
    pid = 0
    for t in range(n_teams):
        pid += 1
        ppl.append((pid, f"lead{t + 1}@bench.example", f"Lead {t + 1}", "lead", t + 1))
        for a in range(team_size):
            if len([p for p in ppl if p[3] == "agent"]) >= agents:
                break
            pid += 1
            ppl.append(
                (
                    pid,
                    f"agent{t + 1}.{a + 1}@bench.example",
                    f"Agent {t + 1}.{a + 1}",
                    "agent",
                    t + 1,
                )
            )
    return teams, ppl


VALUE_COLUMNS = (
    "metric_key",
    "person_id",
    "team_id",
    "day",
    "value",
    "weight",
    "numerator",
    "denominator",
    "updated_at",
)


def insert_values_sqlite(
    con: sqlite3.Connection, rows: list[tuple[Any, ...]], now: dt.datetime
) -> None:
    """Bulk-insert generated KPI rows into a SQLite file (the caller commits)."""
    stamp = now.replace(tzinfo=None).isoformat(" ")
    con.executemany(
        f"INSERT INTO metricvalue ({', '.join(VALUE_COLUMNS)}) VALUES ({', '.join('?' * 9)})",
        [(k, p, t, d.isoformat(), v, w, n, dd, stamp) for (k, p, t, d, v, w, n, dd) in rows],
    )


async def insert_values_pg(conn: Any, rows: list[tuple[Any, ...]], now: dt.datetime) -> None:
    """Bulk-copy generated KPI rows into PostgreSQL (an asyncpg connection)."""
    await conn.copy_records_to_table(
        "metricvalue", records=[(*r, now) for r in rows], columns=list(VALUE_COLUMNS)
    )


async def load_sqlite(path: str, args: argparse.Namespace) -> tuple[Database, int]:
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url)
    await db.create_all()
    await ensure_reference_data(db)
    await db.dispose()
    teams, ppl = people_rows(args.agents, args.team_size)
    agents = [(p[0], p[4]) for p in ppl if p[3] == "agent"]
    started = time.perf_counter()
    rows = value_rows(agents, [t[0] for t in teams], args.days)
    con = sqlite3.connect(path)
    now = NOW.replace(tzinfo=None).isoformat(" ")
    con.executemany(
        "INSERT INTO team (id, name, name_key, timezone, lead_id, post_time, work_days, created_at)"
        " VALUES (?, ?, ?, ?, ?, '09:00', 'Mon-Fri', ?)",
        [(*t, now) for t in teams],
    )
    con.executemany(
        "INSERT INTO person (id, email, display_name, role, team_id, timezone, work_hours, active,"
        " created_at) VALUES (?, ?, ?, ?, ?, 'Europe/London', 'Mon-Fri 09:00-17:00', 1, ?)",
        [(*p, now) for p in ppl],
    )
    insert_values_sqlite(con, rows, NOW)
    con.commit()
    con.close()
    print(f"  sqlite: loaded {len(rows):,} values in {time.perf_counter() - started:.1f}s")
    return Database(url), len(rows)


async def load_postgres(base_url: str, args: argparse.Namespace) -> tuple[Database, str, int]:
    name = "leadbot_bench_" + uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(base_url)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = base_url.rsplit("/", 1)[0] + "/" + name
    db = Database(url)
    await db.create_all()
    await ensure_reference_data(db)
    await db.dispose()
    teams, ppl = people_rows(args.agents, args.team_size)
    agents = [(p[0], p[4]) for p in ppl if p[3] == "agent"]
    started = time.perf_counter()
    rows = value_rows(agents, [t[0] for t in teams], args.days)
    conn = await asyncpg.connect(url)
    try:
        await conn.copy_records_to_table(
            "team",
            records=[(*t, "09:00", "Mon-Fri", NOW) for t in teams],
            columns=[
                "id",
                "name",
                "name_key",
                "timezone",
                "lead_id",
                "post_time",
                "work_days",
                "created_at",
            ],
        )
        await conn.copy_records_to_table(
            "person",
            records=[(*p, "Europe/London", "Mon-Fri 09:00-17:00", True, NOW) for p in ppl],
            columns=[
                "id",
                "email",
                "display_name",
                "role",
                "team_id",
                "timezone",
                "work_hours",
                "active",
                "created_at",
            ],
        )
        await insert_values_pg(conn, rows, NOW)
        for table in ("team", "person", "metricvalue"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        await conn.execute("ANALYZE")  # what autovacuum does soon after a bulk load
    finally:
        await conn.close()
    print(f"  postgres: loaded {len(rows):,} values in {time.perf_counter() - started:.1f}s")
    return Database(url), name, len(rows)


def actor(p: Person) -> Actor:
    assert p.id is not None
    return Actor(p.id, p.email, p.display_name, p.role, p.team_id, p.timezone)


async def time_commands(db: Database, runs: int) -> dict[str, list[float]]:
    from storage import people

    ctx = bootstrap(Settings(_env_file=None, leadbot_secret="bench"), db=db, clock=lambda: NOW).ctx
    lead = await people.get_by_email(db, email="lead1@bench.example")
    agent = await people.get_by_email(db, email="agent1.1@bench.example")
    assert lead is not None
    assert agent is not None
    assert lead.team_id is not None
    for metric, op, target in (("aht", "<=", 300.0), ("csat", ">=", 20.0), ("fcr", ">=", 75.0)):
        await goals.set_goal(
            db,
            team_id=lead.team_id,
            metric_key=metric,
            op=op,
            target=target,
            period="daily",
            set_by_id=lead.id,
        )
    who = {"lead": actor(lead), "agent": actor(agent)}
    out: dict[str, list[float]] = {}
    for role, line in COMMANDS:
        cmd = await parse_line(db, who[role], line)
        for _ in range(5):  # warm the pool and the caches
            await run_command(cmd, ctx)
        samples = []
        cpu0 = time.process_time()
        for _ in range(runs):
            t0 = time.perf_counter()
            reply = await run_command(await parse_line(db, who[role], line), ctx)
            samples.append((time.perf_counter() - t0) * 1000)
            if not reply.ok:
                raise SystemExit(f"{line} failed: {reply.text}")
        # The bot process's CPU per command (all its threads), apart from waiting.
        samples.append((time.process_time() - cpu0) * 1000 / runs)
        out[f"{line} ({role})"] = samples
    return out


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


def report(label: str, results: dict[str, list[float]]) -> None:
    print(f"\n{label}")
    print(f"  {'command':<28} {'p50':>8} {'p95':>8} {'p99':>8} {'cpu':>8}  (ms)")
    for line, samples in results.items():
        s, cpu = samples[:-1], samples[-1]
        print(
            f"  {line:<28} {statistics.median(s):8.1f} {pct(s, 95):8.1f} {pct(s, 99):8.1f}"
            f" {cpu:8.1f}"
        )


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--team-size", type=int, default=20)
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    ap.add_argument("--sqlite-file", help="load into (or reuse) this SQLite file")
    ap.add_argument("--pg-db", help="reuse this PostgreSQL database (made with --keep)")
    ap.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = ap.parse_args()
    print(
        f"data set: {args.agents} agents in teams of {args.team_size}, {args.days} days, "
        f"{len(METRICS)} metrics (+ queue rows per team)"
    )
    if args.only != "postgres":
        if args.sqlite_file and Path(args.sqlite_file).exists():  # noqa: ASYNC240
            db, n = Database(f"sqlite+aiosqlite:///{args.sqlite_file}"), -1
            report(f"SQLite (reused {args.sqlite_file})", await time_commands(db, args.runs))
            await db.dispose()
        elif args.sqlite_file:
            db, n = await load_sqlite(args.sqlite_file, args)
            report(f"SQLite ({n:,} rows)", await time_commands(db, args.runs))
            await db.dispose()
        else:
            with tempfile.TemporaryDirectory() as tmp:
                db, n = await load_sqlite(os.path.join(tmp, "bench.db"), args)
                try:
                    report(f"SQLite ({n:,} rows)", await time_commands(db, args.runs))
                finally:
                    await db.dispose()
    if args.only != "sqlite":
        base = os.environ.get("LEADBOT_BENCH_POSTGRES_URL", PG_DEFAULT)
        if args.pg_db:
            url = base.rsplit("/", 1)[0] + "/" + args.pg_db
            db = Database(url)
            report(f"PostgreSQL (reused {args.pg_db})", await time_commands(db, args.runs))
            await db.dispose()
            return 0
        db, name, n = await load_postgres(base, args)
        try:
            report(f"PostgreSQL ({n:,} rows)", await time_commands(db, args.runs))
        finally:
            await db.dispose()
            if args.keep:
                print(f"  kept database {name} (reuse with --pg-db {name})")
            else:
                conn = await asyncpg.connect(base)
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                await conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
