"""The web dashboard on a full-size center: 500 agents x 365 days x 10 metrics.

Run by hand:

    .venv/bin/python benchmarks/dashboard.py [--runs 200] [--only sqlite|postgres]
        [--rss-seconds 20] [--no-rss]

It loads the data set of benchmarks/stats.py (500 agents in 25 teams of 20, a lead each,
plus a manager over every team), signs a lead, the manager and an agent in through real
one-time links, and times whole HTTP requests to the real web app (aiohttp on loopback,
the client in the same process, one request at a time): the team page (HTML with the
heatmap and every chart's table) and its data endpoint (the charts' JSON) for 30 and 365
days, the manager's page and data, an agent's page. The floor is a bare aiohttp handler
answering a fixed page of the same size, timed the same way in the same run. p50/p95/p99
in milliseconds.

Then (SQLite only, unless --no-rss) it starts `leadbot run` twice on the same file, with
the dashboard off and on, and reports its RSS idle and after --rss-seconds of dashboard
requests (VmRSS from /proc, VmHWM for the peak).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer
from alembic import command
from stats import NOW, PG_DEFAULT, load_postgres, load_sqlite

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from domain.roles import Role
from domain.settings import Settings
from handlers.core.signin import issue_link
from storage import goals, people
from storage.db import Database
from storage.migrate import alembic_config

ROOT = Path(__file__).resolve().parents[1]
BASE = "http://127.0.0.1:1"


def settings(url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=url,
        leadbot_secret="bench-secret",
        dashboard_base_url=BASE,
        slack_bot_token=None,
        slack_signing_secret=None,
        slack_app_token=None,
    )


async def prepare(db: Database) -> None:
    """Goals for every team, and one manager over all of them."""
    teams = await people.list_teams(db)
    for t in teams:
        assert t.id is not None
        for metric, op, target in (("aht", "<=", 300.0), ("csat", ">=", 20.0), ("fcr", ">=", 75.0)):
            await goals.set_goal(
                db,
                team_id=t.id,
                metric_key=metric,
                op=op,
                target=target,
                period="daily",
                set_by_id=t.lead_id,
            )
    manager = await people.upsert_person(
        db, email="manager@bench.example", display_name="Manager", role=Role.manager, team_id=None
    )
    assert manager.id is not None
    for t in teams:
        assert t.id is not None
        await people.assign_member(db, person_id=manager.id, team_id=t.id, role=Role.manager)


async def sign_in(
    client: aiohttp.ClientSession, base: str, ctx_app: object, db: Database, email: str
) -> None:
    """A real sign-in: issue a link as `/leadbot dashboard` does, open it, press the button."""
    person = await people.get_by_email(db, email=email)
    assert person is not None
    link = await issue_link(ctx_app, person)  # type: ignore[arg-type]
    async with client.get(base + link[len(BASE) :]) as r:
        html = await r.text()
    fields = dict(re.findall(r'name="(t|pre)" value="([^"]*)"', html))
    async with client.post(base + "/dashboard/signin", data=fields, allow_redirects=False) as r:
        assert r.status == 303, r.status


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


async def timed(get: Callable[[], Awaitable[int]], runs: int) -> list[float]:
    """Wall milliseconds per request, then (last) the process's CPU milliseconds per
    request: server and client together, the figure the machine's load does not move."""
    for _ in range(5):
        await get()
    out = []
    cpu0 = time.process_time()
    for _ in range(runs):
        t0 = time.perf_counter()
        await get()
        out.append((time.perf_counter() - t0) * 1000)
    out.append((time.process_time() - cpu0) * 1000 / runs)
    return out


def fetcher(client: aiohttp.ClientSession, url: str) -> Callable[[], Awaitable[int]]:
    async def get() -> int:
        async with client.get(url) as r:
            body = await r.read()
            if r.status != 200:
                raise SystemExit(f"{url}: {r.status} {body[:200]!r}")
            return len(body)

    return get


async def time_dashboard(db: Database, url: str, runs: int) -> dict[str, tuple[list[float], int]]:
    app = bootstrap(settings(url), db=db, clock=lambda: NOW)
    server = TestServer(build_web_app(app), host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    team = await people.get_team_by_name(db, name="Team 1")
    assert team is not None
    out: dict[str, tuple[list[float], int]] = {}
    jar = aiohttp.CookieJar(unsafe=True)
    try:
        for who, email, paths in (
            (
                "lead",
                "lead1@bench.example",
                (
                    ("team page, 30 days", f"/dashboard/team/{team.id}?days=30"),
                    ("team data, 30 days", f"/dashboard/api/team/{team.id}?days=30"),
                    ("team page, 90 days", f"/dashboard/team/{team.id}?days=90"),
                    ("team data, 90 days", f"/dashboard/api/team/{team.id}?days=90"),
                    ("team page, 365 days", f"/dashboard/team/{team.id}?days=365"),
                    ("team data, 365 days", f"/dashboard/api/team/{team.id}?days=365"),
                ),
            ),
            (
                "manager",
                "manager@bench.example",
                (
                    ("manager page, 25 teams, 30 days", "/dashboard/manager?days=30"),
                    ("manager data, 25 teams, 30 days", "/dashboard/api/manager?days=30"),
                ),
            ),
            ("agent", "agent1.1@bench.example", (("agent page, 30 days", "/dashboard/me"),)),
        ):
            jar.clear()
            async with aiohttp.ClientSession(cookie_jar=jar) as client:
                await sign_in(client, base, app.ctx, db, email)
                for label, path in paths:
                    get = fetcher(client, base + path)
                    size = await get()
                    out[f"{label} ({who})"] = (await timed(get, runs), size)
        page_size = out["team page, 30 days (lead)"][1]
        out["floor: bare aiohttp, same size"] = (await floor(runs, page_size), page_size)
    finally:
        await server.close()
    return out


async def floor(runs: int, size: int) -> list[float]:
    body = ("<p>" + "x" * 96 + "</p>\n") * (size // 104 + 1)

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=body, content_type="text/html")

    bare = web.Application()
    bare.router.add_get("/", page)
    server = TestServer(bare, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as client:
            return await timed(fetcher(client, str(server.make_url("/"))), runs)
    finally:
        await server.close()


def report(label: str, results: dict[str, tuple[list[float], int]]) -> None:
    print(f"\n{label}")
    print(f"  {'request':<42} {'p50':>7} {'p95':>7} {'p99':>7} {'cpu':>7} {'size':>9}  (ms, B)")
    for name, (samples, size) in results.items():
        s, cpu = samples[:-1], samples[-1]
        print(
            f"  {name:<42} {statistics.median(s):7.1f} {pct(s, 95):7.1f} {pct(s, 99):7.1f}"
            f" {cpu:7.1f} {size:9,}"
        )


# --- RSS of `leadbot run` -------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def stamp(url: str) -> None:
    """Mark a schema made by create_all as migrated, so `leadbot run` starts on it."""
    db = Database(url)
    cfg = alembic_config(url)

    def run(sync_conn: object) -> None:
        cfg.attributes["connection"] = sync_conn
        command.stamp(cfg, "head")

    async with db.engine.begin() as conn:
        await conn.run_sync(run)
    await db.dispose()


async def rss_run(path: str, dashboard: bool, seconds: float) -> tuple[float, float, int]:
    """(idle MB, peak MB, requests served) of `leadbot run` on the SQLite file."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{path}",
        "LEADBOT_SECRET": "benchmark-secret-of-at-least-32-characters",  # run refuses less
        "PORT": str(port),
        "DASHBOARD_BASE_URL": base if dashboard else "",
        "LOG_LEVEL": "WARNING",
        "SLACK_BOT_TOKEN": "",
        "KPI_SOURCE_URL": "",
    }
    leadbot = Path(sys.executable).parent / "leadbot"
    cmd = [str(leadbot), "run"] if leadbot.exists() else [sys.executable, "-m", "bot.cli", "run"]
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT)  # noqa: ASYNC220
    served = 0
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            for _ in range(100):
                try:
                    async with client.get(base + "/healthz") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            await asyncio.sleep(10)
            idle = status_kb(proc.pid, "VmRSS") / 1024
            if dashboard:
                db = Database(f"sqlite+aiosqlite:///{path}")
                own = bootstrap(
                    settings(env["DATABASE_URL"]).model_copy(update={"dashboard_base_url": base}),
                    db=db,
                )
                person = await people.get_by_email(db, email="lead1@bench.example")
                assert person is not None
                link = await issue_link(own.ctx, person)
                await db.dispose()
                async with client.get(link) as r:
                    html = await r.text()
                fields = dict(re.findall(r'name="(t|pre)" value="([^"]*)"', html))
                async with client.post(base + "/dashboard/signin", data=fields) as r:
                    assert r.status == 200, r.status
                team = person.team_id
                urls = [
                    f"/dashboard/team/{team}?days=30",
                    f"/dashboard/api/team/{team}?days=365",
                    f"/dashboard/team/{team}/kudos",
                    f"/dashboard/team/{team}/actions",
                ]
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    async with client.get(base + urls[served % len(urls)]) as r:
                        await r.read()
                        assert r.status == 200, r.status
                    served += 1
            peak = status_kb(proc.pid, "VmHWM") / 1024
            return idle, peak, served
    finally:
        proc.terminate()
        proc.wait(timeout=30)


async def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--agents", type=int, default=500)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--team-size", type=int, default=20)
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    ap.add_argument("--rss-seconds", type=float, default=20.0)
    ap.add_argument("--no-rss", action="store_true")
    args = ap.parse_args()
    print(f"data set: {args.agents} agents in teams of {args.team_size}, {args.days} days")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    if args.only != "postgres":
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "bench.db")
            db, n = await load_sqlite(path, args)
            try:
                await prepare(db)
                url = f"sqlite+aiosqlite:///{path}"
                report(f"SQLite ({n:,} rows)", await time_dashboard(db, url, args.runs))
            finally:
                await db.dispose()
            if not args.no_rss:
                await stamp(f"sqlite+aiosqlite:///{path}")
                print("\n`leadbot run` RSS (MB): idle after 10 s, peak after the requests")
                for on in (False, True):
                    idle, peak, served = await rss_run(path, on, args.rss_seconds)
                    what = "dashboard on " if on else "dashboard off"
                    print(f"  {what}: idle {idle:.0f}, peak {peak:.0f} ({served} requests)")
    if args.only != "sqlite":
        base = os.environ.get("LEADBOT_BENCH_POSTGRES_URL", PG_DEFAULT)
        db, name, n = await load_postgres(base, args)
        try:
            await prepare(db)
            url = base.rsplit("/", 1)[0] + "/" + name
            report(f"PostgreSQL ({n:,} rows)", await time_dashboard(db, url, args.runs))
        finally:
            await db.dispose()
            conn = await asyncpg.connect(base)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
