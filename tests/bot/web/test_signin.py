"""Sign-in through chat: `/leadbot dashboard` DMs a one-time link; a link opened twice,
expired, forged or for another person is refused; the cookie's flags; CSRF on sign-out;
the role is read afresh on every request; the dashboard is off without its setting."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from bot.bootstrap import bootstrap
from bot.server import build_web_app
from domain.roles import Role
from domain.types import Command, Platform, Reply
from handlers.core.dispatch import run_command
from handlers.core.signin import actor_of, issue_link, link_claim, make_token
from storage import outbox, people
from storage.db import Database
from storage.models import Person
from tests.bot.web.harness import (
    AGENT,
    LEAD,
    NOW,
    Dashboard,
    csrf_of,
    running,
    seed_demo,
    settings,
)
from tests.conftest import TEST_SECRET, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
async def dashboard(db: Database, clock: FakeClock) -> AsyncIterator[Dashboard]:
    await seed_demo(db)
    async with running(db, clock) as d:
        yield d


async def _status_after_link(d: Dashboard, link: str) -> int:
    async with d.browser() as b:
        resp = await d.open_link(b, link)
        return resp.status


async def test_the_command_dms_a_link_that_signs_its_person_in(dashboard: Dashboard) -> None:
    lead = await dashboard.person(LEAD)
    mark = await outbox.last_id(dashboard.app.db)
    cmd = Command(
        actor=actor_of(lead), verb="leadbot", args=("dashboard",), platform=Platform.slack
    )
    reply = await run_command(cmd, dashboard.app.ctx)
    assert reply.ok
    assert "direct message" in reply.text
    assert "http" not in reply.text  # the link goes in the DM only, never in the channel
    (dm,) = await outbox.messages_after(dashboard.app.db, after_id=mark)
    assert dm.recipient_person_id == lead.id
    text = Reply.from_json(dm.payload).text
    found = re.search(r"(http://\S+/dashboard/signin\?t=\S+)", text)
    assert found is not None
    async with dashboard.browser() as b:
        resp = await dashboard.open_link(b, dashboard.local(found.group(1)))
        assert resp.status == 303
        cookie = resp.headers["Set-Cookie"]
        assert "leadbot_session=" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Path=/dashboard" in cookie
        assert "Secure" not in cookie  # served over plain http in this test
        async with b.get(dashboard.url("/dashboard/me")) as page:
            assert page.status == 200
            assert "Sam Carter" in await page.text()


async def test_a_person_holds_at_most_five_usable_links(dashboard: Dashboard) -> None:
    lead = await dashboard.person(LEAD)
    cmd = Command(actor=actor_of(lead), verb="leadbot", args=("dashboard",))
    for _ in range(5):
        assert (await run_command(cmd, dashboard.app.ctx)).ok
    mark = await outbox.last_id(dashboard.app.db)
    sixth = await run_command(cmd, dashboard.app.ctx)
    assert not sixth.ok
    assert "already have 5 sign-in links" in sixth.text
    assert await outbox.last_id(dashboard.app.db) == mark  # no sixth DM


async def test_a_link_opened_twice_is_refused_the_second_time(dashboard: Dashboard) -> None:
    link = await dashboard.link(LEAD)
    assert await _status_after_link(dashboard, link) == 303
    assert await _status_after_link(dashboard, link) == 400


async def test_a_link_whose_page_was_fetched_still_works_once(dashboard: Dashboard) -> None:
    """A link scanner or an unfurler GETs the link: that must not use it up."""
    link = await dashboard.link(LEAD)
    async with dashboard.browser() as scanner, scanner.get(link) as r:
        assert r.status == 200
        assert r.headers["Referrer-Policy"] == "no-referrer"
    assert await _status_after_link(dashboard, link) == 303


async def test_an_expired_link_is_refused(dashboard: Dashboard, clock: FakeClock) -> None:
    link = await dashboard.link(LEAD)
    clock.advance(minutes=dashboard.app.settings.dashboard_link_minutes, seconds=1)
    assert await _status_after_link(dashboard, link) == 400


async def test_a_forged_link_is_refused(dashboard: Dashboard) -> None:
    link = await dashboard.link(AGENT)
    token = parse_qs(urlsplit(link).query)["t"][0]
    pid, expires, nonce, sig = token.split(".")
    lead = await dashboard.person(LEAD)
    forged = [
        f"{lead.id}.{expires}.{nonce}.{sig}",  # another person in a real link
        f"{pid}.{int(expires) + 86400}.{nonce}.{sig}",  # a later expiry
        f"{pid}.{expires}.{nonce}.{'0' * len(sig)}",  # a made-up signature
        make_token("not-the-secret", person_id=int(pid), expires_at=NOW, nonce=nonce),
        "",
        "garbage",
    ]
    for t in forged:
        assert await _status_after_link(dashboard, dashboard.url(f"/dashboard/signin?t={t}")) == 400
    assert await _status_after_link(dashboard, link) == 303  # the real one is untouched


async def test_a_link_signed_for_another_person_is_refused(dashboard: Dashboard) -> None:
    """A correctly signed token that names someone else than the link it was issued as
    (the nonce is bound to its person in the store)."""
    link = await dashboard.link(AGENT)
    token = parse_qs(urlsplit(link).query)["t"][0]
    claim = link_claim(TEST_SECRET, token)
    assert claim is not None
    lead = await dashboard.person(LEAD)
    assert lead.id is not None
    other = make_token(
        TEST_SECRET, person_id=lead.id, expires_at=claim.expires_at, nonce=claim.nonce
    )
    assert await _status_after_link(dashboard, dashboard.url(f"/dashboard/signin?t={other}")) == 400
    assert await _status_after_link(dashboard, link) == 303


async def test_sign_in_needs_its_own_sign_in_page(dashboard: Dashboard) -> None:
    """A POST from elsewhere (no double-submit cookie) signs nobody in: no login CSRF."""
    link = await dashboard.link(LEAD)
    token = parse_qs(urlsplit(link).query)["t"][0]
    async with (
        dashboard.browser() as b,
        b.post(
            dashboard.url("/dashboard/signin"),
            data={"t": token, "pre": "x"},
            allow_redirects=False,
        ) as r,
    ):
        assert r.status == 403
        assert "leadbot_session" not in r.headers.get("Set-Cookie", "")
    assert await _status_after_link(dashboard, link) == 303


async def test_sign_out_needs_the_csrf_token(dashboard: Dashboard) -> None:
    async with dashboard.signed_in(LEAD) as b:
        async with b.post(dashboard.url("/dashboard/signout"), allow_redirects=False) as r:
            assert r.status == 403
        async with b.post(
            dashboard.url("/dashboard/signout"),
            data={"csrf": "wrong"},
            allow_redirects=False,
        ) as r:
            assert r.status == 403
        async with b.get(dashboard.url("/dashboard/me")) as r:
            assert r.status == 200  # still signed in
            csrf = csrf_of(await r.text())
        async with b.post(
            dashboard.url("/dashboard/signout"),
            data={"csrf": csrf},
            headers={"Origin": "https://evil.example"},
            allow_redirects=False,
        ) as r:
            assert r.status == 403  # the right token from another site
        async with b.post(
            dashboard.url("/dashboard/signout"), data={"csrf": csrf}, allow_redirects=False
        ) as r:
            assert r.status == 303
        async with b.get(dashboard.url("/dashboard/me")) as r:
            assert r.status == 401


async def test_a_session_ends_after_its_hours(dashboard: Dashboard, clock: FakeClock) -> None:
    async with dashboard.signed_in(LEAD) as b:
        clock.advance(hours=dashboard.app.settings.dashboard_session_hours, seconds=1)
        async with b.get(dashboard.url("/dashboard/me")) as r:
            assert r.status == 401


async def test_the_role_is_read_on_every_request(dashboard: Dashboard) -> None:
    """A lead made an agent loses the team page at once; one made inactive is signed out."""
    lead = await dashboard.person(LEAD)
    assert lead.team_id is not None
    team_page = dashboard.url(f"/dashboard/team/{lead.team_id}")
    async with dashboard.signed_in(LEAD) as b:
        async with b.get(team_page) as r:
            assert r.status == 200
        await _set(dashboard.app.db, lead, role=Role.agent)
        async with b.get(team_page) as r:
            assert r.status == 403
        async with b.get(dashboard.url("/dashboard/me")) as r:
            assert r.status == 200
        await _set(dashboard.app.db, lead, active=False)
        async with b.get(dashboard.url("/dashboard/me")) as r:
            assert r.status == 401


async def _set(db: Database, p: Person, **values: object) -> None:
    async with db.session() as s:
        row = await s.get(Person, p.id)
        assert row is not None
        for k, v in values.items():
            setattr(row, k, v)


async def test_https_marks_the_cookie_secure_and_sends_hsts(db: Database, clock: FakeClock) -> None:
    await seed_demo(db)
    async with running(db, clock, dashboard_base_url="https://leadbot.example.com") as d:
        lead = await d.person(LEAD)
        url = await issue_link(d.app.ctx, lead)
        link = d.url(url.removeprefix("https://leadbot.example.com"))
        async with d.browser() as b:
            async with b.get(link) as page:
                assert "Strict-Transport-Security" in page.headers
                assert "Secure" in page.headers["Set-Cookie"]
                html = await page.text()
            # The client keeps Secure cookies off plain http, so the test sends it itself.
            pre = re.search(r'name="pre" value="([^"]*)"', html)
            assert pre is not None
            async with b.post(
                d.url("/dashboard/signin"),
                data={"t": parse_qs(urlsplit(link).query)["t"][0], "pre": pre.group(1)},
                headers={"Cookie": f"leadbot_signin={pre.group(1)}"},
                allow_redirects=False,
            ) as resp:
                assert resp.status == 303
                assert "Secure" in resp.headers["Set-Cookie"]


async def test_the_dashboard_is_off_without_its_base_url(db: Database) -> None:
    app = bootstrap(settings(dashboard_base_url=None), db=db)
    srv = TestServer(build_web_app(app), host="127.0.0.1")
    await srv.start_server()
    try:
        async with aiohttp.ClientSession() as s, s.get(srv.make_url("/dashboard/")) as r:
            assert r.status == 404
    finally:
        await srv.close()
    lead = await people.upsert_person(
        db, email="lead@example.com", display_name="Lee", role=Role.lead, team_id=None
    )
    reply = await run_command(
        Command(actor=actor_of(lead), verb="leadbot", args=("dashboard",)), app.ctx
    )
    assert not reply.ok
    assert "DASHBOARD_BASE_URL" in reply.text
    assert await outbox.last_id(db) == 0


def test_link_lifetime_is_short() -> None:
    assert settings().dashboard_link_minutes <= 15
    assert dt.timedelta(hours=settings().dashboard_session_hours) <= dt.timedelta(days=1)
