"""The web server: /healthz, the route hook for other adapters, and `run_server`'s
start-up (migrations) and graceful shutdown, on real loopback ports."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot import server
from bot.bootstrap import App, bootstrap
from bot.server import build_web_app, run_server
from bot.slack.app import TaskTracker
from domain.settings import Settings
from storage import people
from storage.db import Database


def _settings(**kw: object) -> Settings:
    values: dict[str, object] = {
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
    }
    values.update(kw)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def _serve(app: web.Application) -> TestServer:
    srv = TestServer(app, host="127.0.0.1")
    await srv.start_server()
    return srv


async def test_healthz_is_200_with_the_database(
    db: Database, session: aiohttp.ClientSession
) -> None:
    srv = await _serve(build_web_app(bootstrap(_settings(), db=db)))
    try:
        async with session.get(srv.make_url("/healthz")) as resp:
            assert resp.status == 200
            assert await resp.json() == {"status": "ok"}
    finally:
        await srv.close()


async def test_healthz_is_503_without_the_database(session: aiohttp.ClientSession) -> None:
    down = Database("postgresql://postgres:postgres@127.0.0.1:1/nothing")
    srv = await _serve(build_web_app(bootstrap(_settings(), db=down)))
    try:
        async with session.get(srv.make_url("/healthz")) as resp:
            assert resp.status == 503
            assert await resp.json() == {"status": "database unavailable"}
    finally:
        await srv.close()
        await down.dispose()


async def test_without_slack_settings_there_is_no_slack_route(
    db: Database, session: aiohttp.ClientSession
) -> None:
    srv = await _serve(build_web_app(bootstrap(_settings(), db=db)))
    try:
        async with session.post(srv.make_url("/slack/events"), data="x") as resp:
            assert resp.status in (404, 405)
    finally:
        await srv.close()


async def test_route_installers_add_routes(
    db: Database, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Database] = []

    async def hello(_request: web.Request) -> web.Response:
        return web.Response(text="hello")

    def install(app: web.Application, leadbot: App) -> None:
        seen.append(leadbot.db)
        app.router.add_post("/api/messages", hello)

    monkeypatch.setattr(server, "ROUTE_INSTALLERS", [install])
    srv = await _serve(build_web_app(bootstrap(_settings(), db=db)))
    try:
        async with session.post(srv.make_url("/api/messages")) as resp:
            assert resp.status == 200
            assert await resp.text() == "hello"
        assert seen == [db]
    finally:
        await srv.close()


async def test_task_tracker_drain_waits_for_work() -> None:
    tracker = TaskTracker()
    release = asyncio.Event()
    done: list[int] = []

    async def work() -> None:
        await release.wait()
        done.append(1)

    tracker.spawn(work())
    assert await tracker.drain(0) == 1  # no grace: still running
    loop = asyncio.get_running_loop()
    loop.call_soon(release.set)
    assert await tracker.drain(5) == 0
    assert done == [1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def test_run_server_migrates_serves_and_finishes_in_flight_requests(
    tmp_path: Path, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    port = _free_port()
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(_request: web.Request) -> web.Response:
        started.set()
        await release.wait()
        return web.Response(text="finished")

    def install(app: web.Application, _leadbot: App) -> None:
        app.router.add_get("/slow", slow)

    monkeypatch.setattr(server, "ROUTE_INSTALLERS", [install])
    stop, ready = asyncio.Event(), asyncio.Event()
    serving = asyncio.create_task(
        run_server(
            bootstrap(_settings(database_url=url)),
            port=port,
            host="127.0.0.1",
            stop=stop,
            ready=ready,
        )
    )
    await asyncio.wait_for(ready.wait(), 10)
    base = f"http://127.0.0.1:{port}"
    async with session.get(base + "/healthz") as resp:
        assert resp.status == 200

    async def slow_request() -> tuple[int, str]:
        async with session.get(base + "/slow") as resp:
            return resp.status, await resp.text()

    in_flight = asyncio.create_task(slow_request())
    await started.wait()
    stop.set()
    await asyncio.sleep(0)  # the server begins shutting down with the request open
    assert not serving.done()
    release.set()
    assert await in_flight == (200, "finished")
    await asyncio.wait_for(serving, 10)

    # The migrations ran: the schema exists in the fresh file.
    db = Database(url)
    try:
        assert await people.list_teams(db) == []
    finally:
        await db.dispose()
