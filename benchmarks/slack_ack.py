"""Slash-command acknowledgement latency through the real server, and a bare bolt floor.

Run by hand: `.venv/bin/python benchmarks/slack_ack.py [--requests 1000] [--concurrency 50]`.

leadbot acknowledges before it reads the database (the handler runs after the ack), so
the figure does not depend on the size of the KPI history. Both apps run in this process
on loopback ports with a fake Slack Web API; the client is in the same process too, so
the numbers include its cost (the ratio to the floor is the figure to compare).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from pydantic import SecretStr
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from domain.roles import Role
from domain.settings import Settings
from storage import people
from storage.catalogue import ensure_reference_data
from storage.db import Database
from tests.bot.slack.fake_slack import FakeSlack, signed_headers

SECRET = "bench-secret"


def floor_app(fake: FakeSlack) -> web.Application:
    bolt = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=fake.api_url),
        signing_secret=SECRET,
    )

    async def on_command(ack: AsyncAck) -> None:
        await ack()

    bolt.command("/leadbot")(on_command)

    async def handle(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", handle)
    return app


async def measure(url: str, fake: FakeSlack, n: int, concurrency: int) -> list[float]:
    sem = asyncio.Semaphore(concurrency)
    latencies: list[float] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:

        async def one(i: int) -> None:
            body = urlencode(
                {
                    "command": "/leadbot",
                    "text": "help",
                    "user_id": "U1",
                    "channel_id": "C1",
                    "team_id": "T1",
                    "response_url": fake.response_url(f"b{i}"),
                    "trigger_id": "t",
                }
            )
            headers = signed_headers(SECRET, body, content_type="application/x-www-form-urlencoded")
            async with sem:
                t0 = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status
                latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(one(i) for i in range(n)))
    return latencies


def summary(lat: list[float]) -> tuple[float, float]:
    lat = sorted(lat)
    return statistics.median(lat) * 1000, lat[int(len(lat) * 0.99) - 1] * 1000


async def main_async(n: int, concurrency: int) -> None:
    fake = FakeSlack()
    await fake.start()
    tmp = tempfile.mkdtemp()
    db = Database(f"sqlite+aiosqlite:///{tmp}/ack.db")
    await db.create_all()
    await ensure_reference_data(db)
    p = await people.upsert_person(
        db, email="ana@example.com", display_name="Ana", role=Role.lead, team_id=None
    )
    assert p.id is not None
    await people.set_platform_id(db, person_id=p.id, slack_user_id="U1")
    settings = Settings(
        _env_file=None,
        database_url=db.url,
        slack_bot_token=SecretStr("xoxb-bench"),
        slack_signing_secret=SecretStr(SECRET),
        slack_app_token=None,
        slack_api_url=fake.api_url,
    )
    results = {}
    for name, app in (("floor (bare bolt)", floor_app(fake)), ("leadbot", None)):
        if app is None:
            app = build_web_app(bootstrap(settings, db=db))
        gc.collect()
        gc.freeze()  # as run_server does after start-up
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        url = str(server.make_url("/slack/events"))
        await measure(url, fake, 50, concurrency)  # warm-up (auth.test, pools)
        lat = await measure(url, fake, n, concurrency)
        results[name] = summary(lat)
        await server.close()  # leadbot: waits for the replies posted after the acks
    for name, (p50, p99) in results.items():
        print(f"{name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms ({n} requests, {concurrency} at once)")
    lb, fl = results["leadbot"], results["floor (bare bolt)"]
    print(f"ratio to floor: p50 {lb[0] / fl[0]:.2f}x, p99 {lb[1] / fl[1]:.2f}x")
    await db.dispose()
    await fake.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args()
    asyncio.run(main_async(args.requests, args.concurrency))
    return 0


if __name__ == "__main__":
    sys.exit(main())
