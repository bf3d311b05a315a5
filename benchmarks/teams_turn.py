"""Teams message latency through the real server (POST /api/messages), and a floor: a bare
Agents SDK echo agent on the same CloudAdapter.

Run by hand: `.venv/bin/python benchmarks/teams_turn.py [--requests 500] [--concurrency 20]`.

Teams waits for the HTTP answer of each activity; the bot's reply is posted to the Bot
Connector (a loopback fake here) during the request, so the figure includes that post.
Anonymous mode is used (no JWT to validate: JWKS fetching needs the internet); token
validation adds one RSA signature check per request in production.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from microsoft_agents.authentication.msal import MsalConnectionManager
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_middleware
from microsoft_agents.hosting.core import (
    ActivityHandler,
    AgentAuthConfiguration,
    TurnContext,
)

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from domain.roles import Role
from domain.settings import Settings
from storage import people
from storage import teams as teams_store
from storage.catalogue import ensure_reference_data
from storage.db import Database
from tests.bot.teams import fakes


class Echo(ActivityHandler):
    async def on_message_activity(self, turn_context: TurnContext) -> None:  # type: ignore[override]
        await turn_context.send_activity(turn_context.activity.text or "")


def floor_app() -> web.Application:
    config = AgentAuthConfiguration(anonymous_allowed=True)
    adapter = CloudAdapter(
        connection_manager=MsalConnectionManager(
            connections_configurations={"SERVICE_CONNECTION": config}
        )
    )
    agent = Echo()
    app = web.Application(middlewares=[jwt_authorization_middleware])
    app["agent_configuration"] = config

    async def messages(request: web.Request) -> web.StreamResponse:
        return await adapter.process(request, agent) or web.Response(status=202)

    app.router.add_post("/api/messages", messages)
    return app


async def run(url: str, bodies: list[dict[str, Any]], concurrency: int) -> list[float]:
    latencies: list[float] = []
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    async with aiohttp.ClientSession() as http:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                start = time.perf_counter()
                async with http.post(url, json=body) as resp:
                    await resp.read()
                    assert resp.status in (200, 202), resp.status
                latencies.append(time.perf_counter() - start)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def report(name: str, lat: list[float]) -> float:
    lat = sorted(lat)
    p50 = statistics.median(lat) * 1000
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000
    print(f"{name:>10}: n={len(lat)} p50={p50:.1f} ms p99={p99:.1f} ms")
    return p99


async def main(requests: int, concurrency: int, database_url: str | None) -> None:
    fake = fakes.FakeConnector()
    connector_url = await fake.start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(database_url or f"sqlite+aiosqlite:///{tmp}/bench.db")
        await db.create_all()
        await ensure_reference_data(db)
        team = await people.create_team(db, name="Billing", timezone="Europe/London")
        users = 50
        for n in range(users):
            p = await people.upsert_person(
                db,
                email=f"agent{n}@example.com",
                display_name=f"Agent {n}",
                role=Role.agent,
                team_id=team.id,
            )
            assert p.id is not None
            await teams_store.link_person(db, person_id=p.id, teams_user_id=fakes.aad(n))
        settings = Settings(_env_file=None, teams_allow_anonymous=True)
        server = TestServer(build_web_app(bootstrap(settings, db=db)), host="127.0.0.1")
        await server.start_server()
        floor = TestServer(floor_app(), host="127.0.0.1")
        await floor.start_server()
        try:
            bodies = [
                fakes.message("leadbot whoami", user=i % users, service_url=connector_url)
                for i in range(requests)
            ]
            echo = [
                fakes.message("hello", user=i % users, service_url=connector_url)
                for i in range(requests)
            ]
            await run(str(floor.make_url("/api/messages")), echo[:50], concurrency)  # warm-up
            await run(str(server.make_url("/api/messages")), bodies[:50], concurrency)
            fl = report(
                "sdk floor", await run(str(floor.make_url("/api/messages")), echo, concurrency)
            )
            lb = report(
                "leadbot", await run(str(server.make_url("/api/messages")), bodies, concurrency)
            )
            print(f"leadbot p99 / floor p99 = {lb / fl:.2f}")
        finally:
            await server.close()
            await floor.close()
            await fake.close()
            await db.dispose()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--database-url", help="an EMPTY database (default: a temporary SQLite file)")
    a = ap.parse_args()
    asyncio.run(main(a.requests, a.concurrency, a.database_url))
