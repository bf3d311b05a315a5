"""Request bodies over MAX_BODY_BYTES are refused (413) before anything parses them, on
/slack/events and /api/messages alike, with or without a Content-Length."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from sqlmodel import select

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from domain.settings import Settings
from storage.db import Database
from storage.models import ProcessedEvent
from tests.bot.ops_helpers import serve, slack_settings
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.teams import fakes

LIMIT = 16 * 1024


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
async def connector() -> AsyncIterator[tuple[fakes.FakeConnector, str]]:
    fake = fakes.FakeConnector()
    url = await fake.start()
    yield fake, url
    await fake.close()


async def _chunks(data: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def nothing_processed(db: Database) -> None:
    async with db.session() as s:
        assert list((await s.execute(select(ProcessedEvent))).scalars()) == []


@pytest.mark.parametrize(
    "teams",
    [
        {"teams_allow_anonymous": True},
        {"teams_app_id": "6f1c2d3e-1111-2222-3333-444455556666", "teams_app_password": "pw"},
    ],
    ids=["anonymous", "with-credentials"],
)
async def test_teams_body_over_the_limit_is_refused_before_parsing(
    db: Database,
    connector: tuple[fakes.FakeConnector, str],
    teams: dict[str, object],
) -> None:
    fake, url = connector
    anonymous = bool(teams.get("teams_allow_anonymous"))
    settings = Settings(
        _env_file=None,
        slack_bot_token=None,
        max_body_bytes=LIMIT,
        **teams,  # type: ignore[arg-type]
    )
    activity = fakes.message("leadbot help " + "x" * LIMIT, service_url=url)
    body = json.dumps(activity).encode()
    assert len(body) > LIMIT
    server = TestServer(build_web_app(bootstrap(settings, db=db)), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            headers = {"Content-Type": "application/json"}
            if not anonymous:
                headers["Authorization"] = "Bearer x.y.z"
            async with http.post(
                server.make_url("/api/messages"), data=body, headers=headers
            ) as resp:
                assert resp.status == 413
            # Without a Content-Length (chunked), reading stops at the limit.
            async with http.post(
                server.make_url("/api/messages"), data=_chunks(body), headers=headers
            ) as resp:
                # Anonymous: the read stops at the limit and the activity is refused
                # unparsed (the SDK answers 400); with credentials the token comes first.
                assert resp.status in ((400, 413) if anonymous else (401,))
            await nothing_processed(db)
            assert fake.requests == []
            # A small one still gets through to processing (anonymous) or auth (401).
            small = json.dumps(fakes.message("leadbot help", service_url=url)).encode()
            async with http.post(
                server.make_url("/api/messages"), data=small, headers=headers
            ) as resp:
                assert resp.status == (202 if anonymous else 401)
    finally:
        await server.close()
    # Nothing of the oversized activities reached the connector.
    assert all("x" * 100 not in json.dumps(r) for r in fake.requests)


async def test_slack_chunked_body_over_the_limit_is_refused(
    db: Database, fake_slack: FakeSlack
) -> None:
    async with serve(slack_settings(fake_slack, db, max_body_bytes=LIMIT), db, fake_slack) as srv:
        body = ("text=" + "x" * (2 * LIMIT)).encode()
        async with srv.session.post(
            srv.url("/slack/events"),
            data=_chunks(body),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as resp:
            assert resp.status == 413
        status, headers = await srv.slash(
            "leadbot", "y" * (2 * LIMIT), headers={"X-Request-Id": "too-big-1"}
        )
        assert status == 413
        assert headers["X-Request-Id"] == "too-big-1"
    assert fake_slack.calls == [c for c in fake_slack.calls if c.method == "auth.test"]
    await nothing_processed(db)


async def test_metrics_and_healthz_take_no_body(db: Database) -> None:
    settings = Settings(_env_file=None, slack_bot_token=None, max_body_bytes=LIMIT)
    server = TestServer(build_web_app(bootstrap(settings, db=db)), host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as http:
            for path in ("/metrics", "/healthz"):
                async with http.post(server.make_url(path), data=b"x" * 10) as resp:
                    assert resp.status == 405
                async with http.put(server.make_url(path), data=b"x" * 10) as resp:
                    assert resp.status == 405
                async with http.head(server.make_url(path)) as resp:
                    assert resp.status == 200
    finally:
        await server.close()
