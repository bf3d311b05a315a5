"""Helpers for the operations tests (metrics, logs, secrets): leadbot's real server with a
fake Slack, signed slash commands, and a command that fails on purpose."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from domain.errors import UserError
from domain.parsing import Args
from domain.settings import Settings
from domain.types import Command, Reply, Text
from handlers.core.context import CommandSpec, HandlerContext, Registry
from handlers.registry import build_registry
from storage.db import Database
from tests.bot.slack.fake_slack import FakeSlack, signed_headers
from tests.conftest import FakeClock

_TRIGGERS = itertools.count(1)
BROKEN_MESSAGE = "the broken command blew up on purpose"


async def _broken(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    raise RuntimeError(BROKEN_MESSAGE)


async def _refusing(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    raise UserError("You can't do that here.")


async def _fine(cmd: Command, args: Args, ctx: HandlerContext) -> Reply:
    return Reply(blocks=[Text("fine")])


BROKEN = CommandSpec("opsbroken", "fails on purpose", ("/opsbroken",), _broken)
FINE = CommandSpec("opsfine", "answers", ("/opsfine",), _fine)
REFUSING = CommandSpec("opsrefused", "refuses", ("/opsrefused",), _refusing)


def with_test_commands(base: Registry) -> Registry:
    """The registry plus /opsbroken (raises), /opsrefused and /opsfine, like real features."""
    return dataclasses.replace(base, commands=(*base.commands, BROKEN, FINE, REFUSING))


OPS_REGISTRY = with_test_commands(build_registry())


@dataclass
class Served:
    server: TestServer
    session: aiohttp.ClientSession
    fake: FakeSlack
    signing_secret: str

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def slash(
        self,
        verb: str,
        text: str = "",
        *,
        user: str = "U1",
        secret: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, CIMultiDict[str]]:
        body = urlencode(
            {
                "team_id": "T1",
                "channel_id": "D1",
                "user_id": user,
                "command": f"/{verb}",
                "text": text,
                "response_url": self.fake.response_url(f"cmd-{verb}"),
                "trigger_id": f"trigger-{next(_TRIGGERS)}",  # unique, as Slack's are
            }
        )
        signed = signed_headers(
            secret or self.signing_secret,
            body,
            content_type="application/x-www-form-urlencoded",
        )
        signed.update(headers or {})
        async with self.session.post(self.url("/slack/events"), data=body, headers=signed) as r:
            await r.read()
            return r.status, CIMultiDict(r.headers)


@asynccontextmanager
async def serve(
    settings: Settings, db: Database, fake: FakeSlack, *, registry: Registry = OPS_REGISTRY
) -> AsyncIterator[Served]:
    """leadbot's real aiohttp Application on a loopback port (with the test commands)."""
    app = build_web_app(bootstrap(settings, db=db, clock=FakeClock(_now()), registry=registry))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    secret = settings.slack_signing_secret
    try:
        async with aiohttp.ClientSession() as session:
            yield Served(server, session, fake, secret.get_secret_value() if secret else "")
    finally:
        await server.close()


def _now() -> Any:
    import datetime as dt

    return dt.datetime.now(dt.UTC)


def slack_settings(fake: FakeSlack, db: Database, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "slack_bot_token": "xoxb-ops-test",
        "slack_signing_secret": "ops-signing-secret",
        "slack_app_token": None,
        "slack_api_url": fake.api_url,
        "slack_response_url_hosts": fake.host,
        "max_body_bytes": 64 * 1024,
    }
    values.update(kw)
    return Settings(_env_file=None, **values)
