"""Every dashboard page and data endpoint, as every kind of person: an agent, the lead of
this team, the lead of another team, the manager, an admin, and someone signed out. The
answers are chat's rules (handlers/core/access.py): an agent opening a team URL gets 403."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.web.routes import PAGES
from storage import people
from storage.db import Database
from storage.demo.people import email_of
from tests.bot.web.harness import (
    ADMIN,
    AGENT,
    LEAD,
    MANAGER,
    NOW,
    OTHER_LEAD,
    Dashboard,
    running,
    seed_demo,
)
from tests.conftest import FakeClock

WHO = ("agent", "lead", "other_lead", "manager", "admin", "signed_out")
EMAILS = {
    "agent": AGENT,
    "lead": LEAD,
    "other_lead": OTHER_LEAD,
    "manager": MANAGER,
    "admin": ADMIN,
}
OK, NO, OUT = 200, 403, 401

# path template -> expected status for each of WHO (B: Billing's id, P: an agent of Billing
# who is not the agent signed in)
MATRIX: dict[str, tuple[int, ...]] = {
    "/team/{B}": (NO, OK, NO, OK, NO, OUT),
    "/me": (OK, OK, OK, OK, OK, OUT),
    "/agent/{P}": (NO, OK, NO, OK, NO, OUT),
    "/manager": (NO, NO, NO, OK, NO, OUT),
    "/pulse": (NO, OK, OK, OK, NO, OUT),
    "/pulse?team={B}": (NO, OK, NO, OK, NO, OUT),
    "/team/{B}/kudos": (NO, OK, NO, OK, NO, OUT),
    "/team/{B}/actions": (NO, OK, NO, OK, NO, OUT),
}
APIS = (
    "/team/{B}",
    "/me",
    "/agent/{P}",
    "/manager",
    "/pulse",
    "/pulse?team={B}",
    "/team/{B}/kudos",
)


@pytest.fixture
async def dashboard(db: Database) -> AsyncIterator[Dashboard]:
    await seed_demo(db)
    async with running(db, FakeClock(NOW)) as d:
        yield d


def test_the_matrix_covers_every_page_and_data_endpoint() -> None:
    pages = {
        p.replace("{team_id:\\d{1,9}}", "{B}").replace("{person_id:\\d{1,9}}", "{P}")
        for p, *_ in PAGES
    }
    assert pages == {k.split("?")[0] for k in MATRIX}
    with_api = {
        p.replace("{team_id:\\d{1,9}}", "{B}").replace("{person_id:\\d{1,9}}", "{P}")
        for p, _, _, api in PAGES
        if api
    }
    assert with_api == {k.split("?")[0] for k in APIS}


async def _status(b: aiohttp.ClientSession, url: str) -> int:
    async with b.get(url, allow_redirects=False) as r:
        body = await r.read()
        if r.status in (OUT, NO) and "/api/" in url:
            assert r.content_type == "application/json"
        if r.status == NO:
            assert b"Oliver Bennett" not in body  # nothing of the team leaks
        return r.status


async def test_every_page_and_endpoint_as_every_role(dashboard: Dashboard) -> None:
    billing = await people.get_team_by_name(dashboard.app.db, name="Billing")
    other = await dashboard.person(email_of("Oliver Bennett"))
    assert billing is not None
    ids = {"B": billing.id, "P": other.id}
    failures = []
    for i, who in enumerate(WHO):
        cm = dashboard.browser() if who == "signed_out" else dashboard.signed_in(EMAILS[who])
        async with cm as b:
            for template, expected in MATRIX.items():
                path = template.format(**ids)
                urls = [("page", f"/dashboard{path}")]
                if template in APIS:
                    urls.append(("data", f"/dashboard/api{path}"))
                for kind, url in urls:
                    got = await _status(b, dashboard.url(url))
                    if got != expected[i]:
                        failures.append(f"{who} {kind} {url}: {got}, expected {expected[i]}")
    assert not failures, "\n".join(failures)


async def test_a_lead_cannot_reach_another_team_by_changing_the_url(dashboard: Dashboard) -> None:
    tech = await people.get_team_by_name(dashboard.app.db, name="Tech Support")
    assert tech is not None
    async with dashboard.signed_in(LEAD) as b:
        for path in (
            f"/dashboard/team/{tech.id}",
            f"/dashboard/api/team/{tech.id}",
            f"/dashboard/team/{tech.id}/kudos",
            f"/dashboard/team/{tech.id}/actions",
            f"/dashboard/pulse?team={tech.id}",
            f"/dashboard/api/pulse?team={tech.id}",
        ):
            async with b.get(dashboard.url(path)) as r:
                assert r.status == 403, path
                body = (await r.text()).replace("see team Tech Support: it isn&#39;t", "")
                assert "Tech Support" not in body.replace("see team Tech Support", "")
                assert "Marcus Johnson" not in body  # none of its people
        async with b.get(dashboard.url("/dashboard/team/999999")) as r:
            assert r.status == 404
