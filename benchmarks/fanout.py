"""Fan-out benchmark: 10,000 Slack DMs through the outbox dispatcher and the real Slack
sender, to a loopback fake Slack that enforces a fixed rate with 429 + Retry-After.

Reports the achieved rate as a fraction of the allowed rate (goal >= 0.95), messages
lost (goal 0), sent twice (goal 0) and peak memory of the sending process (goal < 250 MB),
next to a "floor": a bare slack_sdk AsyncWebClient loop sending the same messages to the
same server.

    .venv/bin/python -m benchmarks.fanout [--messages 10000] [--rate 200]

SQLite always; PostgreSQL too when LEADBOT_BENCH_POSTGRES_URL is set (a scratch database
is created on that server and dropped afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import multiprocessing as mp
import os
import resource
import socket
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.slack.sender import SlackSender  # noqa: E402
from domain.roles import Role  # noqa: E402
from domain.settings import Settings  # noqa: E402
from domain.types import message  # noqa: E402
from jobs.dispatcher import Dispatcher, DispatcherConfig, PlatformLimits, Rate  # noqa: E402
from storage import outbox  # noqa: E402
from storage.catalogue import ensure_reference_data  # noqa: E402
from storage.db import Database, normalize_url  # noqa: E402
from storage.models import Person  # noqa: E402
from storage.outbox import OutboxNew  # noqa: E402

TOKEN = "xoxb-bench"


# --- the fake Slack (its own process, so it does not share a CPU core with the sender) ----


def _serve(port: int, rate: float, burst: float, ready: Any) -> None:
    from aiohttp import web

    state: dict[str, Any] = {
        "tokens": burst,
        "updated": time.monotonic(),
        "accepted": {},  # outbox id -> times accepted
        "order_errors": 0,
        "last_seq": {},
        "throttled": 0,
        "first": None,
        "last": None,
    }

    async def post(request: web.Request) -> web.Response:
        body = await request.json()
        now = time.monotonic()
        state["tokens"] = min(burst, state["tokens"] + (now - state["updated"]) * rate)
        state["updated"] = now
        if state["tokens"] < 1:
            state["throttled"] += 1
            wait = max(1, int((1 - state["tokens"]) / rate + 0.999))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(wait)},
            )
        state["tokens"] -= 1
        key = str(body.get("text", ""))
        state["accepted"][key] = state["accepted"].get(key, 0) + 1
        state["first"] = state["first"] or now
        state["last"] = now
        return web.json_response({"ok": True, "channel": body.get("channel"), "ts": f"{now:.6f}"})

    async def stats(_request: web.Request) -> web.Response:
        accepted = state["accepted"]
        return web.json_response(
            {
                "unique": len(accepted),
                "total": sum(accepted.values()),
                "throttled": state["throttled"],
                "span": (state["last"] - state["first"]) if state["first"] else 0.0,
            }
        )

    async def reset(_request: web.Request) -> web.Response:
        state.update(accepted={}, throttled=0, first=None, last=None, tokens=burst)
        state["updated"] = time.monotonic()
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/api/chat.postMessage", post)
    app.router.add_get("/stats", stats)
    app.router.add_post("/reset", reset)
    ready.set()
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- runs ------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    seconds: float
    delivered: int
    lost: int
    duplicates: int
    throttled: int
    rate: float
    ratio: float


async def _server_stats(base: str) -> dict[str, Any]:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(base + "stats") as r:
        data: dict[str, Any] = await r.json()
        return data


async def _server_reset(base: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as s, s.post(base + "reset") as r:
        await r.read()


async def _seed(db: Database, n: int) -> None:
    """n agents with Slack ids, and one DM to each in the outbox (as a pulse would)."""
    now = dt.datetime.now(dt.UTC)
    async with db.session() as s:
        rows = [
            {
                "email": f"agent{i}@bench.example",
                "display_name": f"Agent {i}",
                "role": Role.lead.value,  # not held for quiet hours: the run is about sending
                "timezone": "UTC",
                "work_hours": "Mon-Sun 00:00-23:59",
                "slack_user_id": f"U{i:07d}",
                "active": True,
                "created_at": now,
            }
            for i in range(n)
        ]
        await s.execute(sa.insert(Person), rows)
        ids = [
            r[0]
            for r in (
                await s.execute(
                    sa.select(col(Person.id)).where(col(Person.email).like("%@bench.example"))
                )
            ).all()
        ]
    payload = message("Pulse: how was your week?").to_json()
    for start in range(0, len(ids), 1000):
        await outbox.enqueue(
            db,
            messages=[
                OutboxNew(
                    dedupe_key=f"bench:{pid}",
                    payload=payload.replace("week?", f"week? #{pid}"),
                    person_id=pid,
                )
                for pid in ids[start : start + 1000]
            ],
        )


async def run_dispatcher(url: str, api: str, base: str, n: int, rate: float) -> Result:
    db = Database(url)
    await db.create_all()
    await ensure_reference_data(db)
    await _seed(db, n)
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=api)
    sender = SlackSender.from_settings(settings)
    limits = {
        "slack": PlatformLimits(
            app=(Rate(rate, 1.0, burst=max(rate / 20, 1)),), per_target=(Rate(1, 1.0),)
        )
    }
    d = Dispatcher(db, {"slack": sender}, config=DispatcherConfig(limits=limits))
    await _server_reset(base)
    stop = asyncio.Event()
    started = time.perf_counter()

    async def watch() -> None:
        for _ in range(1_000_000):
            if (await outbox.counts(db))["pending"] == 0:
                break
            await asyncio.sleep(0.05)  # polls the database for the end of the run
        stop.set()

    watcher = asyncio.create_task(watch())
    await d.run(stop)
    await watcher
    seconds = time.perf_counter() - started
    await sender.close()
    await db.dispose()
    stats = await _server_stats(base)
    achieved = stats["unique"] / seconds
    return Result(
        "leadbot dispatcher",
        seconds,
        stats["unique"],
        n - stats["unique"],
        stats["total"] - stats["unique"],
        stats["throttled"],
        achieved,
        achieved / rate,
    )


async def run_floor(api: str, base: str, n: int, rate: float) -> Result:
    """A bare AsyncWebClient loop: its built-in handler honours 429 Retry-After."""
    import aiohttp
    from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
    from slack_sdk.web.async_client import AsyncWebClient

    client = AsyncWebClient(
        token=TOKEN,
        base_url=api,
        session=aiohttp.ClientSession(),  # one kept-alive connection, as a careful user would
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=100)],
    )
    await _server_reset(base)
    started = time.perf_counter()
    for i in range(n):
        await client.chat_postMessage(
            channel=f"U{i:07d}", text=f"Pulse: how was your week? #floor{i}", blocks=[]
        )
    seconds = time.perf_counter() - started
    if client.session is not None:
        await client.session.close()
    stats = await _server_stats(base)
    achieved = stats["unique"] / seconds
    return Result(
        "floor: bare AsyncWebClient loop",
        seconds,
        stats["unique"],
        n - stats["unique"],
        stats["total"] - stats["unique"],
        stats["throttled"],
        achieved,
        achieved / rate,
    )


async def _pg_scratch(base_url: str) -> tuple[str, str]:
    import asyncpg

    name = "leadbot_bench_" + uuid.uuid4().hex[:10]
    raw = base_url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(raw)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return normalize_url(raw.rpartition("/")[0] + "/" + name), name


async def _pg_drop(base_url: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(base_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _print(results: list[Result], rate: float, n: int) -> None:
    print(f"\nfan-out of {n} Slack DMs, fake Slack allowing {rate:g} msg/s (429 beyond it)")
    print(f"{'run':<34} {'secs':>7} {'msg/s':>7} {'ratio':>6} {'lost':>5} {'dupes':>5} {'429s':>6}")
    for r in results:
        print(
            f"{r.name:<34} {r.seconds:>7.1f} {r.rate:>7.1f} {r.ratio:>6.3f} {r.lost:>5} "
            f"{r.duplicates:>5} {r.throttled:>6}"
        )


async def main_async(args: argparse.Namespace) -> list[Result]:
    port = _free_port()
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    burst = max(args.rate / 10, 1)
    server = ctx.Process(target=_serve, args=(port, args.rate, burst, ready), daemon=True)
    server.start()
    ready.wait(30)
    base = f"http://127.0.0.1:{port}/"
    api = base + "api/"
    for _ in range(100):  # wait for the port
        try:
            await _server_stats(base)
            break
        except OSError:
            await asyncio.sleep(0.1)
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            r = await run_dispatcher(url, api, base, args.messages, args.rate)
            r.name += " (SQLite)"
            results.append(r)
            print(f"peak RSS after SQLite run: {_peak_rss_mb():.0f} MB", flush=True)
        pg = os.environ.get("LEADBOT_BENCH_POSTGRES_URL")
        if pg:
            url, name = await _pg_scratch(pg)
            try:
                r = await run_dispatcher(url, api, base, args.messages, args.rate)
                r.name += " (PostgreSQL)"
                results.append(r)
            finally:
                await _pg_drop(pg, name)
            print(f"peak RSS after PostgreSQL run: {_peak_rss_mb():.0f} MB", flush=True)
        if not args.no_floor:
            results.append(await run_floor(api, base, args.messages, args.rate))
    finally:
        server.terminate()
        server.join(5)
    _print(results, args.rate, args.messages)
    if results and not args.no_floor:
        floor = results[-1]
        for r in results[:-1]:
            print(f"{r.name}: {r.rate / floor.rate:.2f}x the floor's rate")
    print(f"peak RSS of the sending process: {_peak_rss_mb():.0f} MB (goal < 250 MB)")
    if args.json:
        Path(args.json).write_text(  # noqa: ASYNC240  (once, at the end)
            json.dumps(
                {
                    "rate": args.rate,
                    "messages": args.messages,
                    "peak_rss_mb": _peak_rss_mb(),
                    "results": [r.__dict__ for r in results],
                    "when": dt.datetime.now(dt.UTC).isoformat(),
                },
                indent=2,
            )
        )
    return results


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=10_000)
    p.add_argument("--rate", type=float, default=200.0, help="msg/s the fake Slack allows")
    p.add_argument("--no-floor", action="store_true")
    p.add_argument("--json", help="also write the figures to this file")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
