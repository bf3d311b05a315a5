"""Socket Mode: with SLACK_APP_TOKEN set, Slack arrives over a websocket (a fake one here)."""

from __future__ import annotations

import json

import aiohttp
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from storage import people
from storage.db import Database
from tests.bot.slack.conftest import slack_settings
from tests.bot.slack.fake_slack import FakeSlack
from tests.conftest import FakeClock, make_person


async def test_socket_mode_serves_commands_without_the_http_route(
    fake_slack: FakeSlack, file_db: Database, clock: FakeClock
) -> None:
    p = await make_person(file_db, "ana.silva")
    assert p.id is not None
    await people.set_platform_id(file_db, person_id=p.id, slack_user_id="U1")
    settings = slack_settings(
        fake_slack, file_db, slack_app_token=SecretStr("xapp-test"), slack_signing_secret=None
    )
    server = TestServer(
        build_web_app(bootstrap(settings, db=file_db, clock=clock)), host="127.0.0.1"
    )
    await server.start_server()  # connects to the fake's websocket
    try:
        [opened] = await fake_slack.wait_calls("apps.connections.open")
        await fake_slack.wait_calls("socket.connected")
        await fake_slack.socket_send(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "command": "/leadbot",
                    "text": "whoami",
                    "user_id": "U1",
                    "channel_id": "D1",
                    "team_id": "T1",
                    "response_url": fake_slack.response_url("sock"),
                    "trigger_id": "t",
                },
            }
        )
        [ack] = await fake_slack.wait_calls("socket.ack")
        assert ack.data["envelope_id"] == "env-1"
        [reply] = await fake_slack.wait_calls("response_url")
        assert "ana.silva@example.com" in json.dumps(reply.data)
        async with (
            aiohttp.ClientSession() as session,
            session.post(server.make_url("/slack/events"), data="x") as resp,
        ):
            assert resp.status in (404, 405)
    finally:
        await server.close()
    assert opened.method == "apps.connections.open"
