"""The dashboard on a loopback port over the demo center, and browsers (aiohttp client
sessions with their own cookie jars) signed in through a real one-time link."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from bot.bootstrap import App, bootstrap
from bot.server import build_web_app
from domain.privacy import respondent_hash
from domain.settings import Settings
from handlers.core.context import Clock
from handlers.core.signin import issue_link
from storage import demo, people
from storage.db import Database
from storage.demo.people import email_of
from storage.models import Person
from tests.conftest import TEST_SECRET

# The demo's "now": a Tuesday, with 90 days of KPIs behind it.
NOW = dt.datetime(2026, 11, 17, 10, 0, tzinfo=dt.UTC)

LEAD = "sam.carter@example.com"  # lead of Billing
OTHER_LEAD = email_of("Priya Nair")  # lead of Tech Support
AGENT = email_of("Maria Lopez")  # agent in Billing
MANAGER = email_of("Alex Morgan")
ADMIN = email_of("Jordan Lee")


def settings(**kw: Any) -> Settings:
    values: dict[str, Any] = {
        "leadbot_secret": TEST_SECRET,
        "slack_bot_token": None,
        "slack_signing_secret": None,
        "slack_app_token": None,
        "dashboard_base_url": "http://127.0.0.1:1",  # links are rewritten to the test port
    }
    values.update(kw)
    return Settings(_env_file=None, **values)


async def seed_demo(db: Database, now: dt.datetime = NOW) -> None:
    def hasher(round_id: int, person_id: int) -> str:
        return respondent_hash(TEST_SECRET, round_id=round_id, person_id=person_id)

    await demo.seed(db, now=now, hasher=hasher)


@dataclass
class Dashboard:
    app: App
    server: TestServer

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    async def person(self, email: str) -> Person:
        p = await people.get_by_email(self.app.db, email=email)
        assert p is not None, email
        return p

    async def link(self, email: str) -> str:
        """A real one-time link for this person (what `/leadbot dashboard` DMs), on the
        test server's port."""
        url = await issue_link(self.app.ctx, await self.person(email))
        return self.local(url)

    def local(self, url: str) -> str:
        base = self.app.settings.dashboard_base_url or ""
        assert url.startswith(base)
        return self.url(url[len(base) :])

    @asynccontextmanager
    async def browser(self) -> AsyncIterator[aiohttp.ClientSession]:
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=jar) as s:
            yield s

    async def open_link(self, browser: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
        """What a person does with the link: open it, press "Sign in"."""
        async with browser.get(link) as page:
            html = await page.text()
            if page.status != 200:
                return page
        token = _hidden(html, "t")
        pre = _hidden(html, "pre")
        async with browser.post(
            self.url("/dashboard/signin"), data={"t": token, "pre": pre}, allow_redirects=False
        ) as resp:
            await resp.read()
            return resp

    @asynccontextmanager
    async def signed_in(self, email: str) -> AsyncIterator[aiohttp.ClientSession]:
        async with self.browser() as b:
            resp = await self.open_link(b, await self.link(email))
            assert resp.status == 303, resp.status
            yield b


def _hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m is not None, f"no hidden field {name}"
    return m.group(1)


def csrf_of(html: str) -> str:
    return _hidden(html, "csrf")


@asynccontextmanager
async def running(db: Database, clock: Clock, **kw: Any) -> AsyncIterator[Dashboard]:
    """The web app (the dashboard on) over `db`, on a loopback port."""
    app = bootstrap(settings(**kw), db=db, clock=clock)
    srv = TestServer(build_web_app(app), host="127.0.0.1")
    await srv.start_server()
    try:
        yield Dashboard(app, srv)
    finally:
        await srv.close()
