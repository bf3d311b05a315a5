"""Fixtures for the Slack tests: a fake Slack, and leadbot's real server on a loopback port."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from bot.slack.app import SLACK_BOT_KEY, SlackBot
from domain.settings import Settings
from handlers.core.context import Registry
from handlers.registry import build_registry
from storage.catalogue import ensure_reference_data
from storage.db import Database
from tests.bot.slack.fake_slack import FakeSlack, signed_headers
from tests.conftest import FakeClock

SIGNING_SECRET = "test-signing-secret"


@pytest.fixture
async def file_db(tmp_path: Path) -> AsyncIterator[Database]:
    """A SQLite file store: the server and the test use it concurrently."""
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'slack.db'}")
    await database.create_all()
    await ensure_reference_data(database)
    yield database
    await database.dispose()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


def slack_settings(fake: FakeSlack, db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "slack_bot_token": SecretStr("xoxb-test"),
        "slack_signing_secret": SecretStr(SIGNING_SECRET),
        "slack_app_token": None,
        "slack_api_url": fake.api_url,
        "slack_response_url_hosts": fake.host,
        "max_body_bytes": 64 * 1024,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class SlackServer:
    """leadbot's real aiohttp server, and a way to post to it what Slack would."""

    server: TestServer
    session: aiohttp.ClientSession
    fake: FakeSlack
    bot: SlackBot
    last_timestamp: int = 0

    @property
    def events_url(self) -> str:
        return str(self.server.make_url("/slack/events"))

    async def post_raw(
        self, body: str, headers: dict[str, str]
    ) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
        async with self.session.post(self.events_url, data=body, headers=headers) as resp:
            return resp.status, await resp.text(), dict(resp.headers)

    async def post_form(
        self, fields: dict[str, str], *, timestamp: int | None = None
    ) -> tuple[int, str]:
        body = urlencode(fields)
        if timestamp is None:
            # Two requests are never the same bytes at Slack (a trigger_id each, which these
            # tests keep fixed): a second each keeps them apart, well inside the window.
            timestamp = self.last_timestamp = max(int(time.time()), self.last_timestamp + 1)
        headers = signed_headers(
            SIGNING_SECRET,
            body,
            timestamp=timestamp,
            content_type="application/x-www-form-urlencoded",
        )
        status, text, _ = await self.post_raw(body, headers)
        return status, text

    async def command(
        self, verb: str, text: str = "", *, user: str = "U1", channel: str = "C1"
    ) -> tuple[int, str]:
        return await self.post_form(
            {
                "token": "legacy",
                "team_id": "T1",
                "channel_id": channel,
                "user_id": user,
                "user_name": user.lower(),
                "command": f"/{verb}",
                "text": text,
                "response_url": self.fake.response_url(f"cmd-{verb}"),
                "trigger_id": "trigger-1",
            }
        )

    async def interactive(self, payload: dict[str, Any]) -> tuple[int, str]:
        return await self.post_form({"payload": json.dumps(payload)})

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "U1",
        in_home: bool = False,
    ) -> tuple[int, str]:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": user},
            "api_app_id": "A1",
            "trigger_id": "trigger-2",
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": "1",
                }
            ],
        }
        if in_home:
            payload["container"] = {"type": "view", "view_id": "V1"}
            payload["view"] = {"id": "V1", "type": "home"}
        else:
            payload["container"] = {"type": "message", "channel_id": "D1"}
            payload["channel"] = {"id": "D1"}
            payload["response_url"] = self.fake.response_url("click")
        return await self.interactive(payload)

    async def event(
        self, event: dict[str, Any], *, event_id: str = "Ev1", retry: int | None = None
    ) -> tuple[int, str]:
        body = json.dumps(
            {
                "token": "legacy",
                "team_id": "T1",
                "api_app_id": "A1",
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "event": event,
            }
        )
        headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
        if retry is not None:
            headers["X-Slack-Retry-Num"] = str(retry)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        status, text, _ = await self.post_raw(body, headers)
        return status, text


@pytest.fixture
def slack_registry() -> Registry:
    """The registry the `slack` server runs with (a test module may add to it)."""
    return build_registry()


@pytest.fixture
async def slack(
    fake_slack: FakeSlack, file_db: Database, clock: FakeClock, slack_registry: Registry
) -> AsyncIterator[SlackServer]:
    settings = slack_settings(fake_slack, file_db)
    app = build_web_app(bootstrap(settings, db=file_db, clock=clock, registry=slack_registry))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield SlackServer(server, session, fake_slack, app[SLACK_BOT_KEY])
    await server.close()
