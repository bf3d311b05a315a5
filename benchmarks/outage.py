"""Delivery through a PostgreSQL outage, a killed dispatcher, and two dispatchers sharing
one workspace rate: the figures of docs/reliability.md (Delivery when the database fails).

    .venv/bin/python -m benchmarks.outage [--agents 300] [--after 109]
        [--scenarios outage-15s,restart-2.6s,sigkill,rate-1,rate-2,rate-2-unshared]
        [--postgres private|URL] [--json FILE]

Each scenario sends one pulse DM to each of `--agents` agents (one outbox row each, as
`/pulse now` writes them) through dispatcher processes built exactly as `leadbot
scheduler` builds its own (bot.bootstrap.make_dispatcher: SLACK_RATE_PER_SECOND=20, the
default lease), to a loopback fake Slack in this process that notes when it accepted
which outbox id (every Slack message carries its outbox id in its metadata).

- outage-15s / restart-2.6s: once Slack has accepted `--after` messages, PostgreSQL is
  stopped (`pg_ctl stop -m fast`: open connections get 57P01, new ones 57P03 "the
  database system is shutting down", then nothing listens) and started again 15 s /
  2.6 s after the stop began.
- sigkill: the dispatcher is SIGKILLed after `--after` accepted; a new one starts at once.
- rate-1, rate-2: one or two dispatcher processes; rate-2-unshared: two with the
  workspace budget kept per process (DispatcherConfig.shared_rate=False, the behaviour
  before it was shared): Slack's view, per second of the clock.

PostgreSQL: by default a private server (initdb in a temporary directory, run as the
`postgres` user on a free loopback port; needs root and the server binaries), which the
outage scenarios really stop and start. With `--postgres URL` a scratch database on that
server, reached through a loopback TCP proxy that plays the stop instead (the real
server's pg_terminate_backend for 57P01, the proxy's 57P03, then refused connections).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import glob
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks.fanout import _free_port, _seed  # noqa: E402
from storage.db import Database, normalize_url  # noqa: E402
from storage.migrate import upgrade  # noqa: E402

TOKEN = "xoxb-bench"
RATE = 20.0  # SLACK_RATE_PER_SECOND's default (burst = rate)


# --- a dispatcher process, as the clock builds it ----------------------------------------


async def child_main(url: str, api: str, unshared: bool, expect: int) -> None:
    from bot.bootstrap import bootstrap, make_dispatcher
    from domain.settings import Settings
    from storage import outbox

    counts: Counter[str] = Counter()
    messages: list[str] = []

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.exc_info or record.exc_text:
                counts["tracebacks"] += 1
            if record.levelno >= logging.WARNING:
                counts["warnings"] += 1
                if len(messages) < 12:
                    messages.append(f"{record.name}: {record.getMessage()[:240]}")

    root = logging.getLogger()
    root.addHandler(Count())
    root.setLevel(logging.INFO)
    settings = Settings(
        _env_file=None,
        database_url=url,
        slack_bot_token=TOKEN,
        slack_api_url=api,
        slack_rate_per_second=RATE,
    )
    app = bootstrap(settings)
    d = make_dispatcher(app)
    if unshared:
        d.config = dataclasses.replace(d.config, shared_rate=False)
    print(json.dumps({"started": d.name}), flush=True)
    stop = asyncio.Event()

    async def watch() -> None:
        for _ in range(1_000_000):
            with contextlib.suppress(Exception):  # (the database may be down)
                counts = await outbox.counts(app.db)
                if counts["pending"] == 0 and counts["sent"] >= expect:
                    break
            await asyncio.sleep(0.1)
        stop.set()

    watcher = asyncio.create_task(watch())
    await d.run(stop)
    await watcher
    for sender in d.senders.values():
        close = getattr(sender, "close", None)
        if close is not None:
            await close()
    await app.db.dispose()
    print(
        json.dumps(
            {"name": d.name, "stats": dataclasses.asdict(d.stats), **counts, "log": messages}
        ),
        flush=True,
    )


async def launch_child(
    url: str, api: str, expect: int, *, unshared: bool = False
) -> asyncio.subprocess.Process:
    """A dispatcher process; it stops once `expect` messages are sent and none pending."""
    args = [sys.executable, "-m", "benchmarks.outage", "--child", url, api, "--expect", str(expect)]
    if unshared:
        args.append("--unshared")
    return await asyncio.create_subprocess_exec(
        *args,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def started(proc: asyncio.subprocess.Process) -> None:
    assert proc.stdout is not None
    json.loads(await asyncio.wait_for(proc.stdout.readline(), 120))


async def spawn_child(url: str, api: str, expect: int) -> asyncio.subprocess.Process:
    proc = await launch_child(url, api, expect)
    await started(proc)
    return proc


async def child_result(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    out, err = await asyncio.wait_for(proc.communicate(), 900)
    if proc.returncode != 0:
        raise RuntimeError(f"dispatcher exited {proc.returncode}: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


# --- the fake Slack ------------------------------------------------------------------------


class Slack:
    def __init__(self) -> None:
        self.accepted: list[tuple[float, int]] = []  # (epoch seconds, outbox id)
        self.runner: Any = None
        self.port = _free_port()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def start(self) -> None:
        from aiohttp import web

        async def post(request: web.Request) -> web.Response:
            body = await request.json()
            oid = int(body.get("metadata", {}).get("event_payload", {}).get("outbox_id", 0))
            self.accepted.append((time.time(), oid))
            ts = f"{time.time():.6f}"
            return web.json_response({"ok": True, "channel": body.get("channel"), "ts": ts})

        app = web.Application()
        app.router.add_post("/api/chat.postMessage", post)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        await self.runner.cleanup()

    async def wait_accepted(self, n: int) -> None:
        deadline = time.monotonic() + 300
        while len(self.accepted) < n:
            if time.monotonic() > deadline:
                raise TimeoutError(f"Slack accepted {len(self.accepted)} of {n}")
            await asyncio.sleep(0.005)


# --- PostgreSQL that can be stopped -------------------------------------------------------


class PrivatePostgres:
    """A throwaway PostgreSQL server owned by the `postgres` user, on a loopback port."""

    def __init__(self) -> None:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise SystemExit("no PostgreSQL server binaries; use --postgres URL")
        self.bin = Path(bins[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="leadbot-outage-"))
        shutil.chown(self.dir, "postgres")
        self.port = _free_port()
        self._as_postgres([str(self.bin / "initdb"), "-D", str(self.dir / "data"), "-A", "trust"])

    def _as_postgres(self, argv: list[str]) -> None:
        subprocess.run(
            ["su", "postgres", "-c", " ".join(argv)],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, dbname: str) -> str:
        return normalize_url(f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}")

    async def _pg_ctl(self, *args: str) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        cmd = f"{self.bin / 'pg_ctl'} -D {self.dir / 'data'} -l {self.dir / 'log'} -o '{opts}' "
        proc = await asyncio.create_subprocess_exec(
            "su",
            "postgres",
            "-c",
            cmd + " ".join(args),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await proc.wait()

    async def start(self) -> None:
        await self._pg_ctl("-w", "start")

    async def stop(self) -> None:
        await self._pg_ctl("-m", "fast", "-w", "stop")

    async def destroy(self) -> None:
        with contextlib.suppress(Exception):
            await self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class ProxiedPostgres:
    """A scratch database on an existing server, through a proxy that plays the stop."""

    def __init__(self, base: str) -> None:
        self.base = base.replace("postgresql+asyncpg://", "postgresql://")
        self.proxy: Any = None
        self.current = ""  # the scratch database of the scenario

    def admin_url(self) -> str:
        return self.base

    def url_for(self, dbname: str) -> str:
        parts = urlsplit(self.base)
        return normalize_url(urlunsplit(parts._replace(path=f"/{dbname}")))

    def client_url(self, dbname: str) -> str:
        parts = urlsplit(self.url_for(dbname))
        userinfo = parts.netloc.rpartition("@")[0]
        return urlunsplit(parts._replace(netloc=f"{userinfo}@127.0.0.1:{self.proxy.port}"))

    async def start(self) -> None:
        if self.proxy is None:
            from tests.faults.tcp_proxy import TcpProxy

            parts = urlsplit(self.base)
            self.proxy = await TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432).start()
        else:
            await self.proxy.restore()

    async def stop(self) -> None:
        import asyncpg

        self.proxy.shutting_down()
        conn = await asyncpg.connect(self.base)
        try:
            pids = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 "
                "AND pid <> pg_backend_pid() AND client_port = ANY($2::int[])",
                self.current,
                self.proxy.upstream_ports(),
            )
            for row in pids:  # (picked first: never this connection)
                await conn.execute("SELECT pg_terminate_backend($1)", row["pid"])
        finally:
            await conn.close()
        await asyncio.sleep(0.3)  # "shutting down" for a moment, then gone
        self.proxy.cut()

    async def destroy(self) -> None:
        if self.proxy is not None:
            await self.proxy.close()


Server = PrivatePostgres | ProxiedPostgres


async def fresh_database(pg: Server, n: int, *, seed: bool = True) -> tuple[str, str]:
    """A new database with the schema (the real migrations) and n pulse DMs due now;
    returns (url for the dispatchers, url for this process)."""
    import asyncpg

    name = "outage_" + uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(pg.admin_url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = pg.url_for(name)
    db = Database(url)
    try:
        await upgrade(db)
        if seed:
            await _seed(db, n)
    finally:
        await db.dispose()
    if isinstance(pg, ProxiedPostgres):
        pg.current = name
    child_url = pg.client_url(name) if isinstance(pg, ProxiedPostgres) else url
    return child_url, url


async def claimed_by(url: str, name: str) -> list[int]:
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(
                sa.text(
                    "SELECT id FROM outboxmessage WHERE status = 'pending' AND claimed_by = :n"
                ),
                {"n": name},
            )
            return [int(r[0]) for r in rows]
    finally:
        await db.dispose()


# --- scenarios -----------------------------------------------------------------------------


def duplicates(slack: Slack) -> int:
    return sum(n - 1 for n in Counter(i for _, i in slack.accepted).values())


def per_second(times: list[float]) -> list[int]:
    buckets = Counter(int(t) for t in times)
    return [buckets[s] for s in range(min(buckets), max(buckets) + 1)]


async def outage(pg: Server, slack: Slack, n: int, after: int, down: float) -> dict[str, Any]:
    child_url, _url = await fresh_database(pg, n)
    slack.accepted.clear()
    proc = await spawn_child(child_url, slack.api, n)
    await slack.wait_accepted(after)
    t_stop = time.time()
    await pg.stop()
    t_stopped = time.time()
    await asyncio.sleep(max(0.0, down - (time.time() - t_stop)))
    await pg.start()
    t_up = time.time()
    result = await child_result(proc)
    times = [t for t, _ in slack.accepted]
    after_up = [t for t in times if t >= t_up]
    return {
        "scenario": f"PostgreSQL stopped {down:g} s",
        "messages": n,
        "accepted_before_stop": sum(1 for t in times if t < t_stop),
        "accepted_while_down": sum(1 for t in times if t_stop <= t < t_up),
        "stop_took_s": round(t_stopped - t_stop, 2),
        "down_s": round(t_up - t_stop, 2),
        "resume_after_up_s": round(min(after_up) - t_up, 2) if after_up else None,
        "done_after_up_s": round(max(times) - t_up, 2),
        "duplicates": duplicates(slack),
        "unique": len({i for _, i in slack.accepted}),
        "dispatcher_warnings": result.get("warnings", 0),
        "tracebacks": result.get("tracebacks", 0),
        "log": result.get("log", []),
        "stats": result["stats"],
    }


async def sigkill(pg: Server, slack: Slack, n: int, after: int) -> dict[str, Any]:
    child_url, url = await fresh_database(pg, n)
    slack.accepted.clear()
    first = await spawn_child(child_url, slack.api, n)
    await slack.wait_accepted(after)
    first.send_signal(signal.SIGKILL)
    t_kill = time.time()
    await first.wait()
    accepted_at_kill = len(slack.accepted)
    # The dead one's name is in its claims (host:pid:random).
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            name = await conn.scalar(
                sa.text(
                    "SELECT claimed_by FROM outboxmessage WHERE status = 'pending' "
                    "AND claimed_by IS NOT NULL LIMIT 1"
                )
            )
    finally:
        await db.dispose()
    held = await claimed_by(url, str(name)) if name else []
    second = await spawn_child(child_url, slack.api, n)
    t_second = time.time()
    result = await child_result(second)
    when = {}
    for t, i in slack.accepted:
        if t >= t_kill:
            when.setdefault(i, t)
    held_sent = [when[i] for i in held if i in when]
    return {
        "scenario": "dispatcher SIGKILLed, another started at once",
        "messages": n,
        "accepted_before_kill": accepted_at_kill,
        "held_by_the_killed_one": len(held),
        "second_started_after_kill_s": round(t_second - t_kill, 2),
        "first_send_after_kill_s": round(min(when.values()) - t_kill, 2) if when else None,
        "all_held_sent_after_kill_s": round(max(held_sent) - t_kill, 2) if held_sent else None,
        "duplicates": duplicates(slack),
        "unique": len({i for _, i in slack.accepted}),
        "resent_logged": result["stats"]["resent"],
        "tracebacks": result.get("tracebacks", 0),
    }


async def rate(pg: Server, slack: Slack, n: int, k: int, *, unshared: bool) -> dict[str, Any]:
    child_url, url = await fresh_database(pg, n, seed=False)
    slack.accepted.clear()
    procs = [await launch_child(child_url, slack.api, n, unshared=unshared) for _ in range(k)]
    for proc in procs:  # all running, then the pulse is written
        await started(proc)
    db = Database(url)
    try:
        await _seed(db, n)
    finally:
        await db.dispose()
    results = [await child_result(p) for p in procs]
    times = sorted(t for t, _ in slack.accepted)
    seconds = per_second(times)
    span = times[-1] - times[0]
    steady = [t for t in times if t >= times[0] + 1.0]
    steady_rate = (len(steady) - 1) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
    return {
        "scenario": f"{k} dispatcher(s)" + (", budget per process" if unshared else ""),
        "messages": n,
        "limit_per_s": RATE,
        "burst": RATE,
        "max_in_one_second": max(seconds),
        "per_second": seconds,
        "steady_rate_per_s": round(steady_rate, 1),
        "span_s": round(span, 2),
        "sent_by_each": [r["stats"]["sent"] for r in results],
        "duplicates": duplicates(slack),
    }


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    pg: Server = PrivatePostgres() if args.postgres == "private" else ProxiedPostgres(args.postgres)
    slack = Slack()
    await slack.start()
    results: list[dict[str, Any]] = []
    try:
        await pg.start()
        for name in args.scenarios.split(","):
            if name.startswith("outage-") or name.startswith("restart-"):
                down = float(name.split("-", 1)[1].rstrip("s"))
                r = await outage(pg, slack, args.agents, args.after, down)
            elif name == "sigkill":
                r = await sigkill(pg, slack, args.agents, args.after)
            elif name.startswith("rate-"):
                k = int(name.split("-")[1])
                r = await rate(pg, slack, args.agents, k, unshared=name.endswith("unshared"))
            else:
                raise SystemExit(f"unknown scenario {name}")
            results.append(r)
            print(json.dumps(r, indent=2), flush=True)
    finally:
        await slack.close()
        await pg.destroy()
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--child", nargs=2, metavar=("URL", "API"), help=argparse.SUPPRESS)
    p.add_argument("--unshared", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--expect", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--agents", type=int, default=300)
    p.add_argument("--after", type=int, default=109, help="accepted before the fault")
    p.add_argument(
        "--scenarios", default="outage-15s,restart-2.6s,sigkill,rate-1,rate-2,rate-2-unshared"
    )
    p.add_argument("--postgres", default="private", help="private, or a server's URL")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    if args.child:
        asyncio.run(child_main(args.child[0], args.child[1], args.unshared, args.expect))
        return
    logging.basicConfig(level=logging.WARNING)
    results = asyncio.run(main_async(args))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
