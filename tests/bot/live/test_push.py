"""POST /kpi/live: signed observations are stored; a bad or missing signature, a stale
timestamp, a replay and a malformed body each get a 4xx and change nothing."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import bootstrap
from bot.live.push import PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from bot.server import build_web_app
from storage import alerts
from storage.db import Database
from tests.conftest import FakeClock, make_settings, make_team

SECRET = "push-secret-for-tests-0123456789"


@pytest.fixture
async def server(sqlite_file_db: Database, clock: FakeClock) -> AsyncIterator[str]:
    await make_team(sqlite_file_db, "Billing", tz="UTC")
    app = bootstrap(make_settings(live_push_secret=SECRET), db=sqlite_file_db, clock=clock, jobs=())
    srv = TestServer(build_web_app(app), host="127.0.0.1")
    await srv.start_server()
    yield str(srv.make_url(PATH))
    await srv.close()


def body(clock: FakeClock, **extra: object) -> bytes:
    obs = {
        "queue_id": "billing-voice",
        "queue_name": "Billing voice",
        "team": "Billing",
        "observed_at": clock().isoformat(),
        "waiting": 7,
        "longest_wait_seconds": 95,
        "agents_available": 1,
        "offered": 120,
        "answered_in_sl": 90,
        "abandoned": 6,
        **extra,
    }
    return json.dumps({"observations": [obs]}).encode()


async def post(
    url: str,
    raw: bytes,
    *,
    ts: int | None = None,
    secret: str = SECRET,
    signature: str | None = None,
) -> tuple[int, dict[str, object]]:
    stamp = str(ts if ts is not None else int(time.time()))
    headers = {
        TIMESTAMP_HEADER: stamp,
        SIGNATURE_HEADER: signature or sign(secret, stamp, raw),
        "Content-Type": "application/json",
    }
    async with aiohttp.ClientSession() as s, s.post(url, data=raw, headers=headers) as r:
        return r.status, await r.json()


async def test_a_signed_push_is_stored(
    server: str, sqlite_file_db: Database, clock: FakeClock
) -> None:
    status, answer = await post(server, body(clock))
    assert (status, answer) == (202, {"stored": 1})
    [q] = await alerts.live_queues(sqlite_file_db)
    assert (q.queue_id, q.waiting, q.answered_in_sl, q.team_id) == ("billing-voice", 7, 90, 1)


@pytest.mark.parametrize(
    "case",
    ["wrong secret", "no signature", "stale", "from the future", "body changed"],
)
async def test_bad_signatures_are_refused_with_401(
    server: str, sqlite_file_db: Database, clock: FakeClock, case: str
) -> None:
    raw = body(clock)
    now = int(time.time())
    if case == "wrong secret":
        status, _ = await post(server, raw, secret="not-the-secret")
    elif case == "no signature":
        status, _ = await post(server, raw, signature="v1=")
    elif case == "stale":
        status, _ = await post(server, raw, ts=now - 301)
    elif case == "from the future":
        status, _ = await post(server, raw, ts=now + 301)
    else:
        stamp = str(now)
        status, _ = await post(
            server, body(clock, waiting=0), signature=sign(SECRET, stamp, raw), ts=now
        )
    assert status == 401
    assert await alerts.live_queues(sqlite_file_db) == []


async def test_a_replay_is_refused_and_changes_nothing(
    server: str, sqlite_file_db: Database, clock: FakeClock
) -> None:
    raw = body(clock)
    now = int(time.time())
    assert (await post(server, raw, ts=now))[0] == 202
    await alerts.map_queue(sqlite_file_db, queue_id="billing-voice", team_id=None)
    status, answer = await post(server, raw, ts=now)
    assert (status, answer) == (409, {"error": "replayed request"})
    [q] = await alerts.live_queues(sqlite_file_db)
    assert q.team_id is None  # the replay did not store it again


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (b"not json", "Expecting value"),
        (b'{"observations": {}}', 'the body is not {"observations": [...]}'),
        (b'{"observations": [{"waiting": 3}]}', "`queue_id` is missing"),
        (b'{"observations": [{"queue_id": "q", "waiting": -1}]}', "`waiting` is out of range"),
        (
            b'{"observations": [{"queue_id": "q", "waiting": 2.5}]}',
            "`waiting` is not a whole number",
        ),
        (b'{"observations": [{"queue_id": "q", "wating": 2}]}', "unknown field `wating`"),
        (b'{"observations": [{"queue_id": "q", "offered": 2, "answered_in_sl": 3}]}', "more than"),
        (
            b'{"observations": [{"queue_id": "q", "observed_at": "2026-11-17T10:00:00"}]}',
            "no UTC offset",
        ),
        (b"\xff\xfe", "codec"),
    ],
)
async def test_malformed_bodies_get_400_and_one_log_line(
    server: str, sqlite_file_db: Database, raw: bytes, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.live.push"):
        status, answer = await post(server, raw)
    assert status == 400
    assert answer["error"] == "malformed body"
    lines = [r for r in caplog.records if r.name == "bot.live.push"]
    assert len(lines) == 1
    assert why in lines[0].getMessage()
    assert await alerts.live_queues(sqlite_file_db) == []


async def test_without_a_secret_the_endpoint_is_not_there(sqlite_file_db: Database) -> None:
    app = bootstrap(make_settings(), db=sqlite_file_db, jobs=())
    srv = TestServer(build_web_app(app), host="127.0.0.1")
    await srv.start_server()
    try:
        async with aiohttp.ClientSession() as s, s.post(srv.make_url(PATH), data=b"{}") as r:
            assert r.status == 404
    finally:
        await srv.close()
